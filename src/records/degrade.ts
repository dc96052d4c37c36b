/**
 * The line for a record its serializer could not write (docs/records.md, "Records that cannot be
 * serialized"): the record without the parts that fail, and a top-level `recordError` naming them.
 * Only ever called after a failure, so it may take its time; it never throws.
 */
import { setOwn } from '../util/json-pointer.js';

const DROP = Symbol('drop');

export interface RecordError {
  message: string;
  /** Dotted paths of the members left out (`fields.country`, `request`). */
  dropped: string[];
}

/**
 * `record` serialized by `line` when it can be, else without the members that fail, plus
 * `recordError`; the result is always one valid JSON line.
 */
export function degradedLine<R extends object>(
  record: R,
  msg: string,
  time: number,
  err: unknown,
  line: ((record: R, time: number) => string) | null,
): { text: string; error: RecordError } {
  const error: RecordError = { message: messageOf(err), dropped: [] };
  let pruned: Record<string, unknown> | null = null;
  try {
    pruned = prune(record, '', 2, error.dropped) as Record<string, unknown>;
  } catch {
    pruned = null;
  }
  if (pruned !== null && pruned !== (DROP as unknown)) {
    // The record's own serializer first (its key order and layout), checked: it was written for whole records.
    if (line !== null) {
      try {
        const text = line(pruned as R, time);
        if (text.endsWith('}\n')) {
          const withNote = text.slice(0, -2) + ',"recordError":' + JSON.stringify(error) + '}\n';
          JSON.parse(withNote);
          return { text: withNote, error };
        }
      } catch {
        // fall through to the generic form
      }
    }
    try {
      return { text: JSON.stringify({ level: 30, time, msg, ...pruned, recordError: error }) + '\n', error };
    } catch {
      // fall through to the last resort
    }
  }
  const id = (record as { requestId?: unknown }).requestId;
  const head = { level: 30, time, msg, ...(typeof id === 'string' ? { requestId: id } : {}) };
  error.dropped = ['*'];
  return { text: JSON.stringify({ ...head, recordError: error }) + '\n', error };
}

/**
 * `v` if it serializes; else, for a plain object and while `levels` remain, a copy without the members
 * that fail (their paths pushed to `dropped`); else DROP.
 */
function prune(v: unknown, path: string, levels: number, dropped: string[]): unknown {
  try {
    JSON.stringify(v);
    return v;
  } catch {
    // find the members at fault below
  }
  if (levels > 0 && v !== null && typeof v === 'object' && !Array.isArray(v) && typeof (v as { toJSON?: unknown }).toJSON !== 'function') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) {
      const p = prune((v as Record<string, unknown>)[key], path === '' ? key : path + '.' + key, levels - 1, dropped);
      if (p === DROP) continue;
      setOwn(out, key, p);
    }
    return out;
  }
  dropped.push(path === '' ? '*' : path);
  return DROP;
}

function messageOf(err: unknown): string {
  try {
    const m = err instanceof Error ? err.message : String(err);
    return m.length > 200 ? m.slice(0, 200) : m;
  } catch {
    return 'unknown error';
  }
}
