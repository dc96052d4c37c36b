/**
 * The reference definition of a malformed line (docs/report.md, "What it reads"), read in Node: the
 * last of the loader's paths (jsonl.ts), for files DuckDB's readers give up on.
 */
import fs from 'node:fs';
import { isUtf8 } from 'node:buffer';

/**
 * The longest line read, in bytes. Record lines may carry request/response bodies (logging.bodies);
 * DuckDB's default is 16 MiB. A longer line is counted as malformed, never held in memory whole.
 */
export const MAX_LINE_BYTES = 256 * 1024 * 1024;

const NEWLINE = 0x0a;

/**
 * The reference definition of a malformed line: not blank, and longer than `maxLineBytes` or
 * JSON.parse fails or yields something other than an object. Lines end at `\n` (a `\r` before it
 * is JSON whitespace). Writes the object lines to `out` when given. Reads bytes, so a line over the
 * limit is skipped without ever being held whole.
 */
export async function cleanFile(file: string, out: string | null, maxLineBytes = MAX_LINE_BYTES): Promise<{ malformed: number; objects: number }> {
  const sink = out ? fs.createWriteStream(out) : null;
  const sinkError = new Promise<never>((_, reject) => sink?.once('error', reject));
  sinkError.catch(() => undefined);
  let malformed = 0;
  let objects = 0;
  let parts: Buffer[] = [];
  let size = 0;
  let overlong = false;

  const endLine = async (): Promise<void> => {
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    const wasOverlong = overlong;
    parts = [];
    size = 0;
    overlong = false;
    if (wasOverlong) {
      malformed++;
      return;
    }
    const line = bytes.toString('utf8');
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      malformed++;
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      malformed++;
      return;
    }
    objects++;
    if (!sink) return;
    // The line as it was when DuckDB can read it (numbers beyond a double stay what they were);
    // re-serialized when its bytes are not UTF-8, which DuckDB refuses.
    const text = isUtf8(bytes) ? bytes : Buffer.from(JSON.stringify(value));
    // Both written whatever the first write returns: a newline skipped when the buffer is full would
    // join two records into one broken line, which DuckDB then drops.
    const roomAfterLine = sink.write(text);
    const roomAfterNewline = sink.write('\n');
    if (!roomAfterLine || !roomAfterNewline) await Promise.race([new Promise<void>((r) => sink.once('drain', () => r())), sinkError]);
  };

  try {
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(NEWLINE, start);
        const end = nl === -1 ? chunk.length : nl;
        if (!overlong && end > start) {
          if (size + (end - start) > maxLineBytes) {
            overlong = true;
            parts = [];
            size = 0;
          } else {
            parts.push(chunk.subarray(start, end));
            size += end - start;
          }
        }
        if (nl === -1) break;
        await endLine();
        start = nl + 1;
      }
    }
    if (size > 0 || overlong) await endLine();
  } finally {
    if (sink) await Promise.race([new Promise((r) => sink.end(r)), sinkError]);
  }
  return { malformed, objects };
}
