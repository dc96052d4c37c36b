/**
 * Pass-through: a request that no scored route takes goes to the champion unchanged, through
 * @fastify/reply-from's `reply.from()` (docs/design.md#the-path-of-a-request). The path is checked
 * first, as @fastify/http-proxy checked it: it must stay a relative path inside the champion's URL.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { HttpErrorCode } from '../errors.js';
import type { Snapshot } from '../runtime/snapshot.js';
import { classifyTransportError } from '../upstream/classify.js';
import { writeError } from '../http/answer.js';
import { CONNECTION_HEADERS, connectionTokens, passThroughHeaders } from './headers.js';
import { failure } from './served-answer.js';

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

/**
 * The champion's answer headers for the caller: its hop-by-hop headers dropped (the caller's
 * connection is the caller's and ccrouter's: a champion's `keep-alive` must not keep open a
 * connection the caller or a drain closes), values cleaned.
 */
function sanitizeHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const h = headers as Record<string, string | string[] | undefined>;
  const named = connectionTokens(h.connection);
  if (named !== null) for (const name of named) delete h[name];
  for (const name of CONNECTION_HEADERS) delete h[name];
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
      passThroughHeaders(headers as Record<string, string | string[] | undefined>, request.id, request.raw.socket.remoteAddress, snap.config.models.champion.headers) as IncomingHttpHeaders,
    rewriteHeaders: sanitizeHeaders,
    // Never retried: reply-from would ask the champion again up to ten times when it answers a GET
    // with 503. A proxy passes the champion's 503 on; retrying is the caller's choice
    // (docs/reliability.md#champion-failures-are-explicit).
    retryDelay: () => null,
    onError: (_reply, { error }) => championFailed(reply, snap, error),
    onResponse: (_request, _reply, res) => {
      // An answer reply-from refused (a status outside 100-599) was already answered 502 by
      // onError: its body is let go rather than left holding the champion's connection.
      if (reply.sent) return void res.stream.destroy();
      streaming.set(reply, snap);
      reply.send(res.stream);
    },
  });
}

/** Pass-through answers being streamed, with their snapshot: a body that fails is answered from it. */
const streaming = new WeakMap<FastifyReply, Snapshot>();

/**
 * For the listener's error handler: whether `err` is the champion's body failing before any of it
 * was sent (fastify hands that to the error handler), now answered as the champion's failure.
 */
export function passThroughFailed(reply: FastifyReply, err: unknown): boolean {
  const snap = streaming.get(reply);
  if (snap === undefined) return false;
  championFailed(reply, snap, err);
  return true;
}

/**
 * The champion could not answer a pass-through request: 502 `upstream_connect` or 504
 * `upstream_timeout` by the transport error's code, never 500 (docs/errors.md).
 */
function championFailed(reply: FastifyReply, snap: Snapshot, error: unknown): void {
  // Part of the champion's answer went out: it can only be cut short.
  if (reply.raw.headersSent) return void reply.raw.destroy();
  if (reply.sent) return;
  const cfg = snap.config;
  const model = `the champion (${cfg.models.champion.version})`;
  // reply-from wraps undici's error; its `cause` carries undici's code.
  const cause = ((error as { cause?: unknown } | null)?.cause ?? error) as { code?: unknown } | null;
  // Pass-through bounds differ from a scored call's: only the timeouts' messages are its own.
  let [code, message]: [HttpErrorCode, string] = failure(cfg, 'champion', 'connect');
  if (cause?.code === 'UND_ERR_CONNECT_TIMEOUT') {
    code = 'upstream_timeout';
    message = `${model} could not be reached within models.champion.timeoutMs`;
  } else if (classifyTransportError(cause).kind === 'timeout') {
    code = 'upstream_timeout';
    message = `${model} did not answer within limits.requestTimeoutMs (${cfg.limits.requestTimeoutMs} ms)`;
  }
  const request = reply.request;
  // A body the champion stopped reading may still be arriving: the connection cannot carry another request.
  const close = reply.getHeader('connection') === 'close' || !request.raw.complete;
  reply.hijack();
  const res = reply.raw;
  // The champion's headers may already be set on the response: none of them belongs to this answer.
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  writeError(res, code, message, request.id, close, cfg.models.champion.version);
}
