/** Pieces of the pair record that depend on logging settings: unit form, fields, bodies (docs/records.md). */
import { createHmac } from 'node:crypto';
import type { Config } from '../config/types.js';
import { resolvePointer, setOwn, setPointer, type Pointer } from '../util/json-pointer.js';
import { memoByKey } from '../util/memo.js';
import { BODY_BOUND, FIELD_BOUND, Unwritable, bounded, boundedOrUnwritable, boundedText } from './bound.js';

/**
 * The record's `unit` for a unit key (null: no key), per logging.unit: `raw` the key, `hash` the first
 * 32 hex chars of HMAC-SHA256(key = salt, unit key), remembered per key; `omit` undefined.
 */
export function unitFormatter(mode: Config['logging']['unit'], salt: string): (key: string | null) => string | null | undefined {
  if (mode === 'omit') return () => undefined;
  if (mode === 'raw') return (key) => key;
  const hash = memoByKey((key) => hashUnit(key, salt));
  return (key) => (key === null ? null : hash(key));
}

export function hashUnit(key: string, salt: string): string {
  return createHmac('sha256', salt).update(key).digest('hex').slice(0, 32);
}

/**
 * Each configured field's value for the record, bounded (docs/records.md, "Bounded values"): a
 * number, a boolean or a short string costs no copy.
 */
export function fieldsOf(json: unknown, fields: ReadonlyArray<readonly [string, Pointer]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, pointer] of fields) {
    const v = json === undefined ? undefined : resolvePointer(json, pointer);
    setOwn(out, name, v === undefined ? null : boundedOrUnwritable(v, FIELD_BOUND));
  }
  return out;
}

/**
 * A body for the record: JSON with redacted pointers replaced by "[REDACTED]", else the text; bounded
 * either way (docs/records.md, "Bounded values"). Never throws: what cannot be copied is an Unwritable.
 */
export function bodyForRecord(body: Buffer | null, json: unknown, redact: readonly Pointer[]): unknown {
  try {
    if (json === undefined) {
      if (!body || body.length === 0) return null;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        return boundedText(body, BODY_BOUND);
      }
    }
    // Always a copy of a container: redaction writes into it, never into the parsed request.
    const copy = bounded(json, BODY_BOUND);
    if (copy !== null && typeof copy === 'object') {
      for (const p of redact) {
        if (resolvePointer(copy, p) !== undefined) setPointer(copy, p, '[REDACTED]');
      }
    }
    return copy;
  } catch (err) {
    return new Unwritable(`cannot copy the body: ${(err as Error)?.message ?? String(err)}`);
  }
}
