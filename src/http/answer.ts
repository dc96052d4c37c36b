/**
 * The one exit for every answer ccrouter writes itself: scored answers, its own 4xx, 500 and
 * 502/503/504, and the parser-level 400/408/431 written on a bare socket
 * (docs/design.md#the-hot-path). Pass-through answers are the champion's, sent by reply-from; when
 * the champion cannot give one, ccrouter's 502/504 leaves here too.
 *
 * The headers arrive as a flat [name, value, ...] list that `writeHead` takes as is: no header object
 * is built per answer (docs/benchmarks.md#the-hot-path).
 */
import http, { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { HTTP_ERRORS, httpErrorBody, type HttpErrorCode } from '../errors.js';

export const JSON_TYPE = 'application/json; charset=utf-8';
export const TEXT_TYPE = 'text/plain; charset=utf-8';

/**
 * Write `body` with `status` and `headers` (names lower-case; `content-length` is added). `close`:
 * the connection closes after this answer. On a socket, which has no HTTP response object left
 * (Node's parser gave up on the request), the answer is written raw and always closes.
 */
export function writeAnswer(to: ServerResponse | Socket, status: number, headers: string[], body: Buffer, close: boolean): void {
  if (to instanceof ServerResponse) {
    if (close) headers.push('connection', 'close');
    headers.push('content-length', String(body.length));
    to.writeHead(status, headers).end(body);
    return;
  }
  if (!to.writable) return;
  let head = `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  to.write(Buffer.concat([Buffer.from(`${head}content-length: ${body.length}\r\nconnection: close\r\n\r\n`, 'latin1'), body]));
}

/**
 * ccrouter's own error answer: `code`'s status, its one JSON body (`httpErrorBody`) and, where a
 * request exists, `x-request-id`. `model`: the version of the model whose call failed.
 */
export function writeError(to: ServerResponse | Socket, code: HttpErrorCode, message: string | undefined, requestId: string | undefined, close: boolean, model?: string): void {
  const body = errorBytes(code, message, requestId, model);
  const headers = requestId === undefined ? ['content-type', JSON_TYPE] : ['x-request-id', requestId, 'content-type', JSON_TYPE];
  writeAnswer(to, HTTP_ERRORS[code].status, headers, body, close);
}

/** `httpErrorBody` as the bytes of an answer, for an answer that carries more headers than `writeError`'s. */
export function errorBytes(code: HttpErrorCode, message: string | undefined, requestId: string | undefined, model?: string): Buffer {
  return Buffer.from(JSON.stringify(httpErrorBody(code, message, requestId, model)));
}
