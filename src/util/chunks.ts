/** Bodies collected from a stream's chunks. */

/** A shared empty body. */
export const EMPTY = Buffer.alloc(0);

/**
 * Collects the chunks of a body into one Buffer; a body that came in one chunk is not copied.
 * A base class rather than a member, so that the hot path's per-call objects (a model call, a
 * request body reader) hold it without one more allocation each.
 */
export class Chunks {
  /** Bytes added so far. */
  size = 0;
  #first: Buffer | null = null;
  #more: Buffer[] | null = null;

  add(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.#first === null) this.#first = chunk;
    else (this.#more ??= [this.#first]).push(chunk);
  }

  /** Everything added, as one Buffer; the chunks are let go. */
  take(): Buffer {
    const body = this.#more !== null ? Buffer.concat(this.#more, this.size) : this.#first ?? EMPTY;
    this.#first = this.#more = null;
    return body;
  }
}
