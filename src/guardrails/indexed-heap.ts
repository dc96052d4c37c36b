/**
 * A binary heap of slot numbers (0..capacity-1) ordered by `values[slot]`, that knows where each slot
 * sits: any slot can be removed in O(log n), which a sliding window needs when its oldest value leaves.
 */
export class IndexedHeap {
  readonly #values: Float64Array;
  /** +1: min-heap, -1: max-heap. */
  readonly #sign: number;
  readonly #heap: Int32Array;
  /** Position of each slot in `#heap`, -1 when absent. */
  readonly #pos: Int32Array;
  #size = 0;

  constructor(values: Float64Array, kind: 'min' | 'max') {
    this.#values = values;
    this.#sign = kind === 'min' ? 1 : -1;
    this.#heap = new Int32Array(values.length);
    this.#pos = new Int32Array(values.length).fill(-1);
  }

  get size(): number {
    return this.#size;
  }

  has(slot: number): boolean {
    return this.#pos[slot]! >= 0;
  }

  /** The slot at the top (smallest value for a min-heap, largest for a max-heap); -1 when empty. */
  top(): number {
    return this.#size === 0 ? -1 : this.#heap[0]!;
  }

  push(slot: number): void {
    if (this.has(slot)) throw new Error(`IndexedHeap.push: slot ${slot} is already in the heap`);
    const i = this.#size++;
    this.#heap[i] = slot;
    this.#pos[slot] = i;
    this.#up(i);
  }

  /** Remove and return the top slot; -1 when empty. */
  pop(): number {
    const top = this.top();
    if (top >= 0) this.remove(top);
    return top;
  }

  /** Remove `slot` if present. */
  remove(slot: number): void {
    const i = this.#pos[slot]!;
    if (i < 0) return;
    const last = --this.#size;
    this.#pos[slot] = -1;
    if (i === last) return;
    const moved = this.#heap[last]!;
    this.#heap[i] = moved;
    this.#pos[moved] = i;
    // The moved slot may belong above or below its new position.
    this.#up(i);
    this.#down(this.#pos[moved]!);
  }

  clear(): void {
    for (let i = 0; i < this.#size; i++) this.#pos[this.#heap[i]!] = -1;
    this.#size = 0;
  }

  /** True when slot a must sit above slot b. */
  #before(a: number, b: number): boolean {
    return this.#sign * (this.#values[a]! - this.#values[b]!) < 0;
  }

  #swap(i: number, j: number): void {
    const a = this.#heap[i]!;
    const b = this.#heap[j]!;
    this.#heap[i] = b;
    this.#heap[j] = a;
    this.#pos[b] = i;
    this.#pos[a] = j;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(this.#heap[i]!, this.#heap[parent]!)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.#size) return;
      const r = l + 1;
      const child = r < this.#size && this.#before(this.#heap[r]!, this.#heap[l]!) ? r : l;
      if (!this.#before(this.#heap[child]!, this.#heap[i]!)) return;
      this.#swap(i, child);
      i = child;
    }
  }
}
