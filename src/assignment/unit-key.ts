/** The unit key of a request: header, query parameter or body JSON Pointer (docs/requests.md, "Assignment"). */
import { parsePointer, resolvePointer, type Pointer } from '../util/json-pointer.js';

export type UnitSource =
  | { kind: 'none' }
  | { kind: 'header'; name: string }
  | { kind: 'query'; name: string }
  | { kind: 'body'; pointer: Pointer };

/** Parse `header:NAME | query:NAME | body:/pointer | none` (validated earlier by the config schema). */
export function parseUnitSource(spec: string): UnitSource {
  if (spec === 'none') return { kind: 'none' };
  const colon = spec.indexOf(':');
  const kind = spec.slice(0, colon);
  const rest = spec.slice(colon + 1);
  if (kind === 'header') return { kind, name: rest.toLowerCase() };
  if (kind === 'query') return { kind, name: rest };
  if (kind === 'body') return { kind, pointer: parsePointer(rest) };
  throw new Error(`assignment.unit: expected header:NAME, query:NAME, body:/pointer or none, got ${JSON.stringify(spec)}`);
}

/** A JSON value as a unit key: numbers and booleans stringified; objects, arrays, null, "" are missing. */
export function keyFromValue(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/** The first value of query parameter `name` in a raw URL (`/p?a=1&a=2` → "1"), or null. */
export function queryValue(url: string, name: string): string | null {
  const q = url.indexOf('?');
  if (q < 0) return null;
  const params = new URLSearchParams(url.slice(q + 1));
  return keyFromValue(params.get(name));
}

export interface KeySources {
  headers: Record<string, string | string[] | undefined>;
  url: string;
  /** The parsed JSON body, when the unit source needs it. */
  json?: unknown;
}

export function readUnitKey(source: UnitSource, req: KeySources): string | null {
  switch (source.kind) {
    case 'none': return null;
    case 'header': {
      const v = req.headers[source.name];
      return keyFromValue(Array.isArray(v) ? v[0] : v);
    }
    case 'query': return queryValue(req.url, source.name);
    case 'body': return keyFromValue(resolvePointer(req.json, source.pointer));
  }
}
