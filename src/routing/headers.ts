/** Header handling for both directions (docs/reliability.md): hop-by-hop removal, request id, forwarding. */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { setOwn } from '../util/json-pointer.js';

/** Headers of one connection, never of the message, in either direction (with those `connection` names). */
export const CONNECTION_HEADERS = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

const HOP_BY_HOP = new Set([
  ...CONNECTION_HEADERS, 'expect',
  // Recomputed by the sender (undici on the way up, fastify on the way down) from the actual body.
  'content-length',
  // The upstream's host is set by undici from the model URL.
  'host',
]);

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The client's x-request-id when it is at most 128 characters of [A-Za-z0-9._-], else a new UUID v4. */
export function requestIdFor(headers: IncomingHttpHeaders): string {
  const v = headers['x-request-id'];
  return typeof v === 'string' && REQUEST_ID.test(v) ? v : randomUUID();
}

/** Names listed in a `connection` header, lower-cased (they are hop-by-hop too). */
export function connectionTokens(value: string | string[] | undefined): Set<string> | null {
  // The usual values name no other header (keep-alive is hop-by-hop anyway).
  if (value === undefined || value === 'keep-alive' || value === 'close') return null;
  const s = Array.isArray(value) ? value.join(',') : value;
  const set = new Set<string>();
  for (const t of s.split(',')) {
    const name = t.trim().toLowerCase();
    if (name) set.add(name);
  }
  return set;
}

/**
 * Headers for both upstream calls as a flat list, from Node's raw header list (which keeps
 * repeated headers and the client's spelling). Ends with x-request-id and x-forwarded-for;
 * the caller appends the role.
 */
export function upstreamHeaders(rawHeaders: string[], headers: IncomingHttpHeaders, requestId: string, peer: string | undefined): string[] {
  const extra = connectionTokens(headers.connection);
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'x-request-id' || lower === 'x-forwarded-for' || lower === 'x-ccrouter-role') continue;
    if (extra !== null && extra.has(lower)) continue;
    out.push(name, rawHeaders[i + 1]!);
  }
  const xff = headers['x-forwarded-for'];
  const prior = Array.isArray(xff) ? xff.join(', ') : xff;
  out.push('x-request-id', requestId);
  if (peer) out.push('x-forwarded-for', prior ? `${prior}, ${peer}` : peer);
  else if (prior) out.push('x-forwarded-for', prior);
  return out;
}

/**
 * Appends a model's response headers for the answer to `out`, a flat [name, value, ...] list for
 * `res.writeHead`, from undici's parsed headers (names lower-cased, a repeated header an array:
 * it goes out as one pair per value): without hop-by-hop ones, those the `connection` header names,
 * and the model's own `x-request-id` and `x-ccrouter-*` (ccrouter sets those, and a caller gets each
 * once). `rewritten`: the body is ccrouter's own JSON, so the model's content-type and
 * content-encoding are left out too. Returns whether a content-type was kept.
 */
export function answerHeaders(headers: IncomingHttpHeaders | null, rewritten: boolean, out: string[]): boolean {
  if (headers === null) return false;
  const extra = connectionTokens(headers.connection);
  let contentType = false;
  for (const name of Object.keys(headers)) {
    if (HOP_BY_HOP.has(name) || (extra !== null && extra.has(name))) continue;
    if (name.charCodeAt(0) === 120 /* x */ && (name === 'x-request-id' || name.startsWith('x-ccrouter-'))) continue;
    if (name === 'content-type' || name === 'content-encoding') {
      if (rewritten) continue;
      if (name === 'content-type') contentType = true;
    }
    const value = headers[name];
    if (typeof value === 'string') out.push(name, value);
    else if (value !== undefined) for (const v of value) out.push(name, v);
  }
  return contentType;
}

const PASS_THROUGH_DROP = [...CONNECTION_HEADERS, 'expect'];

/**
 * Pass-through request headers (reply-from already removed `connection` and what it names), with the
 * champion's own `models.champion.headers` set and removed last, as on its scored calls.
 */
export function passThroughHeaders(
  headers: Record<string, string | string[] | undefined>, requestId: string, peer: string | undefined,
  own?: Readonly<Record<string, string | null>>,
): Record<string, string | string[] | undefined> {
  for (const name of PASS_THROUGH_DROP) delete headers[name];
  headers['x-request-id'] = requestId;
  if (peer) {
    const prior = headers['x-forwarded-for'];
    headers['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${peer}` : peer;
  }
  if (own !== undefined) {
    for (const [name, value] of Object.entries(own)) {
      if (value === null) delete headers[name];
      else setOwn(headers, name, value);
    }
  }
  return headers;
}
