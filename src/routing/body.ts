/** Reading a request body into one Buffer, bounded by `limits.bodyBytes`. */
import type { Readable } from 'node:stream';

export class BodyError extends Error {
  constructor(readonly kind: 'too_large' | 'client_abort', message: string) {
    super(message);
  }
}

export interface BodyListener {
  onBody(body: Buffer): void;
  onBodyError(err: BodyError): void;
}

const EMPTY = Buffer.alloc(0);

/** Collects `stream` into one Buffer (no copy for a body that came in one chunk); tells `listener` exactly once. */
export function readBody(stream: Readable, limit: number, listener: BodyListener): void {
  if (stream.readableEnded) return listener.onBody(EMPTY);
  const reader = new BodyReader(stream, limit, listener);
  stream.on('data', reader.onData);
  stream.on('end', reader.onEnd);
  stream.on('error', reader.onError);
  stream.on('close', reader.onClose);
}

class BodyReader {
  first: Buffer | null = null;
  chunks: Buffer[] | null = null;
  size = 0;
  constructor(readonly stream: Readable, readonly limit: number, readonly listener: BodyListener) {}

  readonly onData = (chunk: Buffer): void => {
    this.size += chunk.length;
    if (this.size > this.limit) {
      this.cleanup();
      // Stop reading; the 413 goes out with `connection: close`.
      this.stream.pause();
      this.listener.onBodyError(new BodyError('too_large', `request body over ${this.limit} bytes`));
      return;
    }
    if (this.first === null) this.first = chunk;
    else (this.chunks ??= [this.first]).push(chunk);
  };

  readonly onEnd = (): void => {
    this.cleanup();
    this.listener.onBody(this.chunks !== null ? Buffer.concat(this.chunks, this.size) : this.first ?? EMPTY);
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
