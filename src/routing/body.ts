/** Reading a request body into one Buffer, bounded by `limits.bodyBytes`. */
import type { Readable } from 'node:stream';

export class BodyError extends Error {
  constructor(readonly kind: 'too_large' | 'client_abort', message: string) {
    super(message);
  }
}

export function readBody(stream: Readable, limit: number): Promise<Buffer> {
  if (stream.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Stop reading; the 413 goes out with `connection: close`.
        stream.pause();
        reject(new BodyError('too_large', `request body over ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new BodyError('client_abort', `request body not received: ${err.message}`));
    };
    const onClose = () => {
      cleanup();
      reject(new BodyError('client_abort', 'client closed the connection before the body was complete'));
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}
