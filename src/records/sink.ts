/**
 * A JSON Lines file written with pino (docs/records.md): `level`, `time` (epoch ms) and `msg` on
 * every line, no pid/hostname. A write failure never stops serving and never blocks shutdown: it is counted,
 * told once on stderr, and the failed destination is never flushed synchronously again
 * (sonic-boom's flushSync loops forever after, e.g., ENOSPC).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import sonicBoom, { type SonicBoom } from 'sonic-boom';
import roll from 'pino-roll';
import { degradedLine, type RecordError } from './degrade.js';

export interface SinkOptions<R extends object = object> {
  /** Write each line before returning (events, outcomes); default async with a small buffer. */
  sync?: boolean;
  /**
   * Serialize with this function (the whole line, newline included, stamped `time` in epoch ms)
   * instead of through pino's logger: for the pair records, one per request, where pino's per-key
   * serialization costs several times what `pairLine` does (docs/benchmarks.md, "The hot path").
   */
  line?: (record: R, time: number) => string;
  /** Rotate at this many bytes (pino-roll): files `<name>.1<ext>`, `<name>.2<ext>`... */
  rotate?: { size: number; keep?: number };
  /**
   * Called on every failed write, and on every record `line` could not serialize (written degraded,
   * docs/records.md): the counter lives with the caller.
   */
  onError?: (err: Error, file: string) => void;
}

export interface RecordSink<R extends object = object> {
  readonly file: string;
  /** `msg` goes into the line unless the sink has its own `line` serializer (which writes its own). */
  write(record: R, msg: string): void;
  /**
   * Append lines already serialized (whole lines, newline included) without blocking the event loop;
   * resolves once they are in the file, rejects when the write fails (counted like any failure).
   * Appends run one after the other, in call order. Sync sinks only (their lines are never held).
   */
  append(lines: Buffer): Promise<void>;
  /** Flush what is buffered; never throws, never hangs on a failed destination. */
  flush(): void;
  close(): Promise<void>;
}

/**
 * Async sinks write once this much is buffered (with rotation, at most a quarter of a file). An
 * async fs.write costs mostly its hand-off to the thread pool, not the copy, so fewer, larger writes
 * cost less per record (docs/benchmarks.md, "The hot path"). What a SIGKILL can lose is bounded by
 * it (docs/records.md, "Shutdown and durability").
 */
export const BUFFER_BYTES = 56 * 1024;
/** sonic-boom's largest single write (its default, 16 KiB, must be above BUFFER_BYTES). */
const MAX_WRITE = 64 * 1024;
/** …and at least this often, so that records reach the file when traffic is low. */
export const FLUSH_MS = 1000;

let warned = false;
/** Told once per process: the failure is then counted, not repeated. */
function warnOnce(file: string, err: Error): void {
  if (warned) return;
  warned = true;
  process.stderr.write(`ccrouter: cannot write ${file}: ${err.message} (further write failures are counted in logWriteErrors)\n`);
}

let warnedDegraded = false;
function warnDegradedOnce(file: string, e: RecordError): void {
  if (warnedDegraded) return;
  warnedDegraded = true;
  process.stderr.write(`ccrouter: a record for ${file} could not be serialized (${e.message}); written without ${e.dropped.join(', ')} and marked with recordError (further such records are counted in logWriteErrors)\n`);
}

export async function openSink<R extends object = object>(file: string, options: SinkOptions<R> = {}): Promise<RecordSink<R>> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const sync = options.sync ?? false;
  const line = options.line ?? null;
  // Serialized lines go in as Buffers: in its default (string) mode sonic-boom measures the string it
  // is appending to on every write, which copies the whole pending buffer each time.
  const contentMode = line !== null ? ('buffer' as const) : ('utf8' as const);
  // With rotation, files end near their size.
  const bufferBytes = options.rotate ? Math.min(BUFFER_BYTES, Math.floor(options.rotate.size / 4)) : BUFFER_BYTES;
  const buffering = sync ? { minLength: 0 } : { minLength: bufferBytes, maxWrite: MAX_WRITE };
  let dest: SonicBoom;
  if (options.rotate) {
    // pino-roll takes the extension from the file name: pairs.jsonl → pairs.1.jsonl, pairs.2.jsonl...
    dest = (await roll({
      file,
      size: `${Math.max(1, Math.ceil(options.rotate.size / 1024))}k`,
      ...(options.rotate.keep !== undefined ? { limit: { count: Math.max(0, options.rotate.keep - 1) } } : {}),
      mkdir: true,
      sync,
      ...buffering,
      contentMode,
    })) as unknown as SonicBoom;
  } else {
    dest = new (sonicBoom as unknown as typeof SonicBoom)({ dest: file, sync, mkdir: true, ...buffering, contentMode });
  }
  let failed = false;
  const fail = (err: Error) => {
    failed = true;
    options.onError?.(err, file);
    warnOnce(file, err);
  };
  dest.on('error', fail);
  const logger: Logger | null = line !== null ? null : pino({ base: null, timestamp: pino.stdTimeFunctions.epochTime }, dest);

  const flush = () => {
      if (failed || isDestroyed(dest)) return;
      try {
        dest.flushSync();
      } catch (err) {
        // Not ready yet (opening) or failed meanwhile: the async path will report it.
        if ((err as Error).message !== 'sonic boom is not ready yet') fail(err as Error);
      }
  };
  let appending: Promise<void> = Promise.resolve();
  const append = (lines: Buffer): Promise<void> => {
    const done = appending.then(() => {
      if (!sync) throw new Error(`${file}: append needs a sync sink`);
      if (isDestroyed(dest)) throw new Error(`${file}: closed`);
      // Tried every time: a disk that was full may have room again.
      return writeAll(fdOf(dest), lines);
    });
    appending = done.catch(fail);
    return done;
  };
  const timer = sync
    ? null
    : setInterval(() => {
        if (!failed && !isDestroyed(dest)) dest.flush();
      }, FLUSH_MS).unref();
  return {
    file,
    write(record, msg) {
      if (logger !== null) return void logger.info(record as object, msg);
      const time = Date.now();
      let text: string;
      try {
        text = line!(record, time);
      } catch (err) {
        // Never lost, never a throw into the caller (often a timer or a socket callback): degraded and counted.
        const degraded = degradedLine(record, msg, time, err, line);
        text = degraded.text;
        options.onError?.(err instanceof Error ? err : new Error(String(err)), file);
        warnDegradedOnce(file, degraded.error);
      }
      // contentMode 'buffer' takes Buffers; sonic-boom's types declare only the string form of write().
      dest.write(Buffer.from(text) as unknown as string);
    },
    append,
    flush,
    async close() {
      await appending;
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

/** fs.write until every byte is written (a write may take only part of it). */
function writeAll(fd: number, buf: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (offset: number) => {
      fs.write(fd, buf, offset, buf.length - offset, null, (err, n) => {
        if (err) reject(err);
        else if (offset + n < buf.length) step(offset + n);
        else resolve();
      });
    };
    step(0);
  });
}

/** sonic-boom opens sync destinations at once and keeps the descriptor in `fd`, undeclared. */
function fdOf(dest: SonicBoom): number {
  return (dest as unknown as { fd: number }).fd;
}

/** sonic-boom sets `destroyed` but does not declare it. */
function isDestroyed(dest: SonicBoom): boolean {
  return (dest as unknown as { destroyed?: boolean }).destroyed === true;
}

/** A sink that drops everything: a worker's events are written by the primary. */
export function nullSink(file = '/dev/null'): RecordSink {
  return { file, write() {}, append: async () => undefined, flush() {}, async close() {} };
}
