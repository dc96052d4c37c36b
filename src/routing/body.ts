/** Reading a request body into one Buffer, bounded by `limits.bodyBytes`. */
import type { Readable } from 'node:stream';
import { Chunks, EMPTY } from '../util/chunks.js';

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
    if (this.size + chunk.length > this.limit) {
      this.cleanup();
      // Stop reading; the 413 goes out with `connection: close`.
      this.stream.pause();
      this.listener.onBodyError(new BodyError('too_large', `request body over ${this.limit} bytes`));
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
