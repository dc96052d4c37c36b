/**
 * Values copied from a request or an answer into a pair record, bounded in depth and in size
 * (docs/records.md, "Bounded values"): whatever a caller sends, its record can be serialized, and
 * its line stays small. The copy's work is bounded by the same budget, not by the value's size.
 */
import { setOwn } from '../util/json-pointer.js';

/** What stands in for whatever was cut. */
export const TRUNCATED = '[TRUNCATED]';

export interface Bound {
  /** Containers nested deeper than this below the copied value are replaced by the marker. */
  readonly depth: number;
  /** JSON text characters the copy may take (string escapes not counted). */
  readonly chars: number;
}

/** Each `logging.fields` value. */
export const FIELD_BOUND: Bound = { depth: 32, chars: 16 * 1024 };
/** Each body under `logging.bodies` (the request, the response sent). */
export const BODY_BOUND: Bound = { depth: 64, chars: 1024 * 1024 };

/**
 * `value` (a JSON value) as it may go into a record: the value itself when it is a number, a
 * boolean, null or a string within the bound (no copy), else a copy where a container nested too
 * deep is replaced by "[TRUNCATED]", a string that does not fit is cut and ends with
 * "[TRUNCATED]" (an object's key too), and once the budget is spent the rest of an array is one
 * "[TRUNCATED]" element, the rest of an object one member `"[TRUNCATED]": "[TRUNCATED]"`.
 * The copy's own objects never share structure with `value`, so redacting it leaves `value` alone.
 */
export function bounded(value: unknown, bound: Bound): unknown {
  if (typeof value === 'string') return value.length + 2 <= bound.chars ? value : cut(value, bound.chars - 2);
  if (value === null || typeof value !== 'object') return value;
  return new Copier(bound.chars).copy(value, bound.depth);
}

/** `s` cut to at most `room` characters (marker included), never inside a surrogate pair. */
function cut(s: string, room: number): string {
  let keep = Math.max(0, room - TRUNCATED.length);
  if (keep > s.length) keep = s.length;
  if (keep > 0) {
    const last = s.charCodeAt(keep - 1);
    if (last >= 0xd800 && last <= 0xdbff) keep--;
  }
  return s.slice(0, keep) + TRUNCATED;
}

class Copier {
  /** Characters of budget left. */
  left: number;

  constructor(chars: number) {
    this.left = chars;
  }

  /** `depth`: how many more container levels may be entered (0: this one may not). */
  copy(v: unknown, depth: number): unknown {
    switch (typeof v) {
      case 'string': return this.string(v);
      case 'number': this.left -= Number.isFinite(v) ? ('' + v).length : 4; return v;
      case 'boolean': this.left -= v ? 4 : 5; return v;
      case 'object': break;
      // Not JSON (a caller of `bounded` passed a value JSON.parse cannot make): left out like JSON.stringify does.
      default: return null;
    }
    if (v === null) {
      this.left -= 4;
      return v;
    }
    if (depth <= 0) return this.string(TRUNCATED);
    this.left -= 2;
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (let i = 0; i < v.length; i++) {
        if (this.left <= 0) {
          out.push(TRUNCATED);
          break;
        }
        if (i > 0) this.left--;
        out.push(this.copy(v[i], depth - 1));
      }
      return out;
    }
    const out: Record<string, unknown> = {};
    let first = true;
    for (const key in v) {
      if (!Object.prototype.hasOwnProperty.call(v, key)) continue;
      if (!first) this.left--;
      first = false;
      if (this.left <= 0) {
        out[TRUNCATED] = TRUNCATED;
        break;
      }
      const k = this.string(key);
      this.left--;
      setOwn(out, k, this.copy((v as Record<string, unknown>)[key], depth - 1));
    }
    return out;
  }

  string(s: string): string {
    const cost = s.length + 2;
    if (cost <= this.left) {
      this.left -= cost;
      return s;
    }
    const room = this.left - 2;
    this.left = 0;
    return cut(s, room);
  }
}

/** A body that is not JSON, as text within `bound` (cut before it is decoded: a large body costs no more). */
export function boundedText(body: Buffer, bound: Bound): string {
  if (body.length + 2 <= bound.chars) return body.toString('utf8');
  // A UTF-8 byte is at most one character: `chars` bytes decode to at most that many.
  return cut(body.subarray(0, bound.chars).toString('utf8'), bound.chars - 2);
}

/**
 * Stands in for a value that could not be copied into a record (a defect, or a value no bound
 * foresaw): serializing it throws, so the record is written without it, says so, and is counted
 * (docs/records.md, "Records that cannot be serialized").
 */
export class Unwritable {
  constructor(readonly reason: string) {}

  toJSON(): never {
    throw new Error(this.reason);
  }
}

/** `bounded`, or an Unwritable when the copy itself fails. */
export function boundedOrUnwritable(value: unknown, bound: Bound): unknown {
  // A primitive or a string copies nothing and cannot throw: no try on the common path.
  if (value === null || typeof value !== 'object') return bounded(value, bound);
  try {
    return bounded(value, bound);
  } catch (err) {
    return new Unwritable(`cannot copy the value: ${(err as Error)?.message ?? String(err)}`);
  }
}
