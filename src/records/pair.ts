/** Pieces of the pair record that depend on logging settings: unit form, fields, bodies (SPEC 6). */
import { createHmac } from 'node:crypto';
import type { Config } from '../config/types.js';
import { resolvePointer, setPointer, type Pointer } from '../util/json-pointer.js';
import { memoByKey } from '../util/memo.js';

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

export function fieldsOf(json: unknown, fields: ReadonlyArray<readonly [string, Pointer]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, pointer] of fields) {
    const v = json === undefined ? undefined : resolvePointer(json, pointer);
    out[name] = v === undefined ? null : v;
  }
  return out;
}

/** A body for the record: JSON with redacted pointers replaced by "[REDACTED]", else the text. */
export function bodyForRecord(body: Buffer | null, json: unknown, redact: readonly Pointer[]): unknown {
  if (json === undefined) {
    if (!body || body.length === 0) return null;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return body.toString('utf8');
    }
  }
  if (redact.length === 0 || json === null || typeof json !== 'object') return json;
  const copy = structuredClone(json);
  for (const p of redact) {
    if (resolvePointer(copy, p) !== undefined) setPointer(copy, p, '[REDACTED]');
  }
  return copy;
}
