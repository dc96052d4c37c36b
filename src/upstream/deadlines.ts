/**
 * The calls of one model client in start order, with one timer for all of them. Every call of a
 * client has the same timeout, so deadlines come in start order: one timer, armed for the oldest call
 * still running, replaces a timer and an AbortController per call (docs/design.md, "The hot path").
 */
export interface DeadlineNode<N> {
  prev: N | null;
  next: N | null;
  readonly start: number;
  readonly deadline: number;
}

export class DeadlineList<N extends DeadlineNode<N>> {
  readonly #expire: (node: N) => void;
  #head: N | null = null;
  #tail: N | null = null;
  #count = 0;
  #timer: NodeJS.Timeout | null = null;
  readonly #sweep = () => this.#sweepExpired();

  /** `expire(node)` must take the node off the list (`remove`). */
  constructor(expire: (node: N) => void) {
    this.#expire = expire;
  }

  get size(): number {
    return this.#count;
  }

  add(node: N): void {
    this.#count++;
    if (this.#tail === null) {
      this.#head = this.#tail = node;
    } else {
      node.prev = this.#tail;
      this.#tail.next = node;
      this.#tail = node;
    }
    if (this.#timer === null) this.#arm(node.deadline - node.start);
  }

  remove(node: N): void {
    if (node.prev === null && this.#head !== node) return; // not on the list
    this.#count--;
    if (node.prev !== null) node.prev.next = node.next;
    else this.#head = node.next;
    if (node.next !== null) node.next.prev = node.prev;
    else this.#tail = node.prev;
    node.prev = node.next = null;
  }

  /** `fn` for every node, oldest first; `fn` may remove the node it is given. */
  forEach(fn: (node: N) => void): void {
    for (let n = this.#head; n !== null; ) {
      const next = n.next;
      fn(n);
      n = next;
    }
  }

  /** With no node left to expire, the timer goes: a long timeout must not keep a closed client (and the process) alive. */
  disarm(): void {
    if (this.#timer !== null && this.#head === null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#sweep, Math.max(1, Math.ceil(ms)));
  }

  /** Expire the nodes past their deadline; re-arm for the oldest one left. */
  #sweepExpired(): void {
    this.#timer = null;
    const now = performance.now();
    while (this.#head !== null && this.#head.deadline <= now) this.#expire(this.#head);
    if (this.#head !== null) this.#arm(this.#head.deadline - now);
  }
}
