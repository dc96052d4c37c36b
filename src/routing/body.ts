/**
 * A request body against `limits.bodyBytes`: the one check (declared length or bytes counted so far)
 * with its one message, and reading a scored request's body into one Buffer under it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Chunks, EMPTY } from '../util/chunks.js';

/** Whether `bytes` of body are over `limit`; the message a 413 and its record carry, or null. */
export function overBodyLimit(bytes: number, limit: number): string | null {
  return bytes > limit ? `request body is over limits.bodyBytes (${limit} bytes)` : null;
}

/** The check on a declared `content-length` (Node's parser already refused a malformed one). */
export function declaredOverLimit(headers: IncomingHttpHeaders, limit: number): string | null {
  const declared = headers['content-length'];
  return declared === undefined ? null : overBodyLimit(Number(declared), limit);
}

/** The body as JSON; undefined when it is empty or not JSON. */
export function jsonOf(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

export class BodyError extends Error {
  constructor(readonly kind: 'too_large' | 'client_abort', message: string) {
    super(message);
  }
}

export interface BodyListener {
  onBody(body: Buffer): void;
  onBodyError(err: BodyError): void;
}

/** Collects `stream` into one Buffer (no copy for a body that came in one chunk); tells `listener` exactly once. */
export function readBody(stream: Readable, limit: number, listener: BodyListener): void {
  if (stream.readableEnded) return listener.onBody(EMPTY);
  const reader = new BodyReader(stream, limit, listener);
  stream.on('data', reader.onData);
  stream.on('end', reader.onEnd);
  stream.on('error', reader.onError);
  stream.on('close', reader.onClose);
}

class BodyReader extends Chunks {
  constructor(readonly stream: Readable, readonly limit: number, readonly listener: BodyListener) {
    super();
  }

  readonly onData = (chunk: Buffer): void => {
    const over = overBodyLimit(this.size + chunk.length, this.limit);
    if (over !== null) {
      this.cleanup();
      // Stop reading; the 413 goes out with `connection: close`.
      this.stream.pause();
      this.listener.onBodyError(new BodyError('too_large', over));
      return;
    }
    this.add(chunk);
  };

  readonly onEnd = (): void => {
    this.cleanup();
    this.listener.onBody(this.take());
  };

  readonly onError = (err: Error): void => {
    this.cleanup();
    this.listener.onBodyError(new BodyError('client_abort', `request body not received: ${err.message}`));
  };

  readonly onClose = (): void => {
    this.cleanup();
    this.listener.onBodyError(new BodyError('client_abort', 'client closed the connection before the body was complete'));
  };

  cleanup(): void {
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('error', this.onError);
    this.stream.off('close', this.onClose);
  }
}
