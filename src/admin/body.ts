/**
 * The admin routes' body reader: bytes into one Buffer filled in place as chunks arrive. fastify's
 * own reader concatenates every chunk at the end, one synchronous copy of up to 16 MiB (page faults
 * included) while the public port waits; here each chunk is copied as it comes.
 */
import type { FastifyRequest } from 'fastify';
import { errorCodes } from 'fastify';

/** A chunked body (no Content-Length) starts this large and doubles as needed. */
const INITIAL_BYTES = 64 * 1024;

type Done = (err: Error | null, body?: Buffer) => void;

export function readBody(request: FastifyRequest, payload: NodeJS.ReadableStream, done: Done): void {
  const limit = request.routeOptions.bodyLimit ?? Infinity;
  const declared = Number(request.headers['content-length']);
  if (declared > limit) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
  let buf = Buffer.allocUnsafeSlow(Number.isFinite(declared) ? declared : Math.min(limit, INITIAL_BYTES));
  let length = 0;
  const finish = (err: Error | null) => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onError);
    if (err === null) done(null, buf.subarray(0, length));
    else done(err);
  };
  const onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (length + bytes.length > limit) return finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    if (length + bytes.length > buf.length) {
      // Only without a (truthful) Content-Length: Node's parser never delivers more than it says.
      const grown = Buffer.allocUnsafeSlow(Math.min(limit, Math.max(buf.length * 2, length + bytes.length)));
      buf.copy(grown, 0, 0, length);
      buf = grown;
    }
    bytes.copy(buf, length);
    length += bytes.length;
  };
  const onEnd = () => finish(null);
  const onError = (err: Error & { statusCode?: number }) => {
    if (typeof err.statusCode !== 'number') err.statusCode = 400;
    finish(err);
  };
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onError);
  payload.resume();
}
