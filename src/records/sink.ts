/**
 * A JSON Lines file written with pino (SPEC 6): `level`, `time` (epoch ms) and `msg` on every line,
 * no pid/hostname. A write failure never stops serving and never blocks shutdown: it is counted,
 * told once on stderr, and the failed destination is never flushed synchronously again
 * (sonic-boom's flushSync loops forever after, e.g., ENOSPC).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import sonicBoom, { type SonicBoom } from 'sonic-boom';
import roll from 'pino-roll';

export interface SinkOptions {
  /** Write each line before returning (events, outcomes); default async with a small buffer. */
  sync?: boolean;
  /**
   * Serialize with one JSON.stringify in pino's line layout instead of through pino's logger (the
   * pair records: one per request, where pino's per-key serialization measured ~19 µs against ~3).
   */
  direct?: boolean;
  /** Rotate at this many bytes (pino-roll): files `<name>.1<ext>`, `<name>.2<ext>`... */
  rotate?: { size: number; keep?: number };
  /** Called on every failed write (the counter lives with the caller). */
  onError?: (err: Error, file: string) => void;
}

export interface RecordSink {
  readonly file: string;
  write(record: object, msg: string): void;
  /** Flush what is buffered; never throws, never hangs on a failed destination. */
  flush(): void;
  close(): Promise<void>;
}

/**
 * Async sinks write once this much is buffered: an async fs.write costs about the same CPU whatever
 * its size up to 16 KiB (17 µs with the thread pool on the same core, 64 µs across cores: the
 * hand-off, not the copy), and 16 KiB is sonic-boom's largest single write (which must be above this).
 * 12 KiB holds ~25 pair lines, 4 KiB (before) ~8.
 */
export const BUFFER_BYTES = 12 * 1024;
/** …and at least this often, so that records reach the file when traffic is low. */
export const FLUSH_MS = 1000;

let warned = false;
/** Told once per process: the failure is then counted, not repeated. */
function warnOnce(file: string, err: Error): void {
  if (warned) return;
  warned = true;
  process.stderr.write(`ccrouter: cannot write ${file}: ${err.message} (further write failures are counted in logWriteErrors)\n`);
}

export async function openSink(file: string, options: SinkOptions = {}): Promise<RecordSink> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const sync = options.sync ?? false;
  // Direct lines go in as Buffers: in its default (string) mode sonic-boom measures the string it is
  // appending to on every write, which copies the whole pending buffer each time (~8 KB per record).
  const contentMode = options.direct ? ('buffer' as const) : ('utf8' as const);
  let dest: SonicBoom;
  if (options.rotate) {
    // pino-roll takes the extension from the file name: pairs.jsonl → pairs.1.jsonl, pairs.2.jsonl...
    dest = (await roll({
      file,
      size: `${Math.max(1, Math.ceil(options.rotate.size / 1024))}k`,
      ...(options.rotate.keep !== undefined ? { limit: { count: Math.max(0, options.rotate.keep - 1) } } : {}),
      mkdir: true,
      sync,
      minLength: sync ? 0 : BUFFER_BYTES,
      contentMode,
    })) as unknown as SonicBoom;
  } else {
    dest = new (sonicBoom as unknown as typeof SonicBoom)({ dest: file, sync, mkdir: true, minLength: sync ? 0 : BUFFER_BYTES, contentMode });
  }
  let failed = false;
  dest.on('error', (err: Error) => {
    failed = true;
    options.onError?.(err, file);
    warnOnce(file, err);
  });
  const logger: Logger | null = options.direct ? null : pino({ base: null, timestamp: pino.stdTimeFunctions.epochTime }, dest);

  const flush = () => {
      if (failed || isDestroyed(dest)) return;
      try {
        dest.flushSync();
      } catch (err) {
        // Not ready yet (opening) or failed meanwhile: the async path will report it.
        if ((err as Error).message !== 'sonic boom is not ready yet') {
          failed = true;
          options.onError?.(err as Error, file);
          warnOnce(file, err as Error);
        }
      }
  };
  const timer = sync
    ? null
    : setInterval(() => {
        if (!failed && !isDestroyed(dest)) dest.flush();
      }, FLUSH_MS).unref();
  return {
    file,
    write(record, msg) {
      if (logger !== null) logger.info(record, msg);
      // contentMode 'buffer' takes Buffers; sonic-boom's types declare only the string form of write().
      else dest.write(Buffer.from(jsonLine(record, msg)) as unknown as string);
    },
    flush,
    async close() {
      if (timer !== null) clearInterval(timer);
      flush();
      if (isDestroyed(dest)) return;
      await new Promise<void>((resolve) => {
        const done = () => resolve();
        const t = setTimeout(() => { dest.destroy(); resolve(); }, failed ? 0 : 2000);
        t.unref();
        dest.once('close', () => { clearTimeout(t); done(); });
        dest.once('error', () => { clearTimeout(t); dest.destroy(); done(); });
        if (failed) return;
        dest.end();
      });
    },
  };
}

/** `{"level":30,"time":<epoch ms>,...record,"msg":<msg>}` and a newline: pino's layout at info level. */
export function jsonLine(record: object, msg: string): string {
  const body = JSON.stringify(record);
  const head = '{"level":30,"time":' + Date.now();
  const tail = ',"msg":' + JSON.stringify(msg) + '}\n';
  return body.length > 2 ? head + ',' + body.slice(1, -1) + tail : head + tail;
}

/** sonic-boom sets `destroyed` but does not declare it. */
function isDestroyed(dest: SonicBoom): boolean {
  return (dest as unknown as { destroyed?: boolean }).destroyed === true;
}

/** A sink that drops everything: a worker's events are written by the primary. */
export function nullSink(file = '/dev/null'): RecordSink {
  return { file, write() {}, flush() {}, async close() {} };
}
