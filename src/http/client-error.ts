/**
 * Node's parser-level errors (bad framing, oversized headers, request timeouts) answered in
 * ccrouter's one error shape through its one answer exit, plus one thing fastify does not do:
 * remember which sockets timed out, so a scored request whose body was cut off is recorded as
 * `client_timeout` rather than `client_abort`.
 */
import type { Socket } from 'node:net';
import type { HttpErrorCode } from '../errors.js';
import { writeError } from './answer.js';

const timedOut = new WeakSet<Socket>();

export function socketTimedOut(socket: Socket): boolean {
  return timedOut.has(socket);
}

/** Node's error codes with an answer of their own; any other is a 400. */
const ANSWERS: Record<string, HttpErrorCode> = {
  ERR_HTTP_REQUEST_TIMEOUT: 'client_timeout',
  HPE_HEADER_OVERFLOW: 'headers_too_large',
};

export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') timedOut.add(socket);
  const code = ANSWERS[err.code ?? ''];
  // No request id: the request was never parsed far enough to have one.
  if (code !== undefined) writeError(socket, code, undefined, undefined, true);
  else writeError(socket, 'bad_request', `malformed HTTP request (${err.code ?? 'parse error'})`, undefined, true);
  socket.destroy(err);
}
