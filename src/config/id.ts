/** The config id (docs/config.md, "The config id"): a short hash that changes exactly when the effective config does. */
import { createHash } from 'node:crypto';
import type { Config } from './types.js';

/**
 * JSON with object keys sorted recursively (by UTF-16 code units, as `Array#sort` does) and no
 * whitespace, so equal values always give equal text. As in JSON.stringify, undefined object
 * values are dropped and undefined array items become null.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  // Primitives: JSON.stringify already gives the one canonical form (non-finite numbers become null).
  return JSON.stringify(value) ?? 'null';
}

/**
 * First 12 hex characters of SHA-256 over the canonical JSON of the effective config, `fleet` left
 * out: it names this instance and where levers are shared, not what is served, so that every instance
 * of a fleet on the same file has the same id (docs/config.md, "The config id").
 */
export function configId(config: Config): string {
  const served = config.fleet === undefined ? config : { ...config, fleet: undefined };
  return createHash('sha256').update(canonicalJson(served)).digest('hex').slice(0, 12);
}
