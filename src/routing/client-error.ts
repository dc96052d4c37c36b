/**
 * Node's parser-level errors (bad framing, oversized headers, request timeouts) answered as fastify
 * would, through ccrouter's one answer exit, plus one thing fastify does not do: remember which
 * sockets timed out, so a scored request whose body was cut off is recorded as `client_timeout`
 * rather than `client_abort`.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { writeAnswer } from './answer.js';

const timedOut = new WeakSet<Socket>();

export function socketTimedOut(socket: Socket): boolean {
  return timedOut.has(socket);
}

const ANSWERS: Record<string, [number, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Client Timeout'],
  HPE_HEADER_OVERFLOW: [431, 'Exceeded maximum allowed HTTP header size'],
};

export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') timedOut.add(socket);
  const [status, message] = ANSWERS[err.code ?? ''] ?? [400, 'Client Error'];
  const body = Buffer.from(JSON.stringify({ error: http.STATUS_CODES[status], message, statusCode: status }));
  writeAnswer(socket, status, ['content-type', 'application/json'], body, true);
  socket.destroy(err);
}
