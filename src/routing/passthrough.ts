/**
 * Pass-through: a request that no scored route takes goes to the champion unchanged, through
 * @fastify/reply-from's `reply.from()` (docs/design.md#the-path-of-a-request). The path is checked
 * first, as @fastify/http-proxy checked it: it must stay a relative path inside the champion's URL.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { Snapshot } from '../runtime/snapshot.js';
import { passThroughHeaders } from './headers.js';

const ABSOLUTE = /^[a-zA-Z][a-zA-Z\d+.-]*:/;

/** Whether `path` (the champion's prefix included) may be sent: relative, decodable, no `..` segment. */
export function validPassThroughPath(path: string): boolean {
  const p = path.replace(/[\t\n\r\0]/g, '').trimStart().replaceAll('\\', '/');
  if (ABSOLUTE.test(p) || p.startsWith('//')) return false;
  let decoded: string;
  try {
    decoded = decodeURIComponent(p);
  } catch {
    return false;
  }
  return !decoded.replaceAll('\\', '/').split('/').includes('..');
}

/** A header value without the bytes Node refuses to write (a model's odd header must not fail the answer). */
function sanitize(value: string): string {
  return value.replace(/[^\t\x20-\x7E\x80-\xFF]/g, '');
}

function sanitizeHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const h = headers as Record<string, string | string[] | undefined>;
  for (const name in h) {
    const v = h[name];
    if (typeof v === 'string') h[name] = sanitize(v);
    else if (Array.isArray(v)) h[name] = v.map(sanitize);
  }
  return headers;
}

/** Send the request on to the champion of `snap`; `path` has been checked by `validPassThroughPath`. */
export function passThrough(reply: FastifyReply, snap: Snapshot, path: string): void {
  const origin = snap.passThrough.origin;
  // The query goes on as the client sent it (reply-from takes it from the request's URL).
  void reply.from(path, {
    getUpstream: () => origin,
    rewriteRequestHeaders: (request, headers) =>
      passThroughHeaders(headers as Record<string, string | string[] | undefined>, request.id, request.raw.socket.remoteAddress) as IncomingHttpHeaders,
    rewriteHeaders: sanitizeHeaders,
  });
}
