/** A response's header list as CallOk carries it, from what undici's dispatch controller offers. */
import type { IncomingHttpHeaders } from 'node:http';

/**
 * undici's raw list ([name, value, ...] Buffers, as received) when the controller has it (HTTP/1.1),
 * else the parsed headers flattened back into one: a repeated header (set-cookie) stays one pair per
 * value, names lower-cased as undici parsed them.
 */
export function rawHeaderList(raw: unknown, headers: IncomingHttpHeaders): Buffer[] {
  // undici's list holds either Buffers (HTTP/1.1) or strings, never both: the first entry tells.
  if (Array.isArray(raw) && typeof raw[0] !== 'string') return raw as Buffer[];
  const out: Buffer[] = [];
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    const key = Buffer.from(name, 'latin1');
    if (Array.isArray(value)) for (const v of value) out.push(key, Buffer.from(v, 'latin1'));
    else out.push(key, Buffer.from(String(value), 'latin1'));
  }
  return out;
}

/** The first content-encoding value of parsed headers (undici makes a repeated header an array). */
export function firstContentEncoding(headers: IncomingHttpHeaders): string | undefined {
  const v = headers['content-encoding'];
  return typeof v === 'string' ? v : v?.[0];
}
