/**
 * One percentile (linear interpolation between closest ranks, as in docs/report.md) of a set of
 * values that changes one value at a time, as a sliding window does.
 *
 * With n values, h = (n − 1)·p, lo = ⌊h⌋: the answer needs only the sorted values x[lo] and x[lo+1].
 * The lo+1 smallest values sit in a max-heap, the others in a min-heap, so both are heap tops.
 * Adding or removing a value costs O(log n) (one heap operation plus at most two moves to restore the
 * split); reading the percentile is O(1). No sort of the window ever happens.
 */
import { IndexedHeap } from './indexed-heap.js';

export class SlidingQuantile {
  readonly p: number;
  readonly #values: Float64Array;
  /** The lo+1 smallest values; top = x[lo]. */
  readonly #low: IndexedHeap;
  /** The rest; top = x[lo+1]. */
  readonly #high: IndexedHeap;

  /** Values are held under slot numbers 0..capacity-1 (a ring buffer's positions). */
  constructor(capacity: number, p: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`SlidingQuantile: capacity must be an integer >= 1, got ${capacity}`);
    if (!(p >= 0 && p <= 1)) throw new RangeError(`SlidingQuantile: p must be in [0, 1], got ${p}`);
    this.p = p;
    this.#values = new Float64Array(capacity);
    this.#low = new IndexedHeap(this.#values, 'max');
    this.#high = new IndexedHeap(this.#values, 'min');
  }

  get size(): number {
    return this.#low.size + this.#high.size;
  }

  /** Add `value` under `slot`; a value already held there is replaced. */
  add(slot: number, value: number): void {
    if (!Number.isFinite(value)) throw new RangeError(`SlidingQuantile.add: value must be a finite number, got ${value}`);
    this.remove(slot);
    this.#values[slot] = value;
    const low = this.#low.top();
    if (low < 0 || value <= this.#values[low]!) this.#low.push(slot);
    else this.#high.push(slot);
    this.#rebalance();
  }

  /** Remove the value held under `slot`, if any. */
  remove(slot: number): void {
    if (this.#low.has(slot)) this.#low.remove(slot);
    else if (this.#high.has(slot)) this.#high.remove(slot);
    else return;
    this.#rebalance();
  }

  clear(): void {
    this.#low.clear();
    this.#high.clear();
  }

  /** The percentile of the values held; null when there are none. */
  value(): number | null {
    const n = this.size;
    if (n === 0) return null;
    // Same arithmetic as the report's quantile(), so both give bit-identical answers.
    const h = (n - 1) * this.p;
    const lo = Math.floor(h);
    const xlo = this.#values[this.#low.top()]!;
    if (lo + 1 > n - 1) return xlo;
    const xhi = this.#values[this.#high.top()]!;
    return xlo + (h - lo) * (xhi - xlo);
  }

  /** Keep exactly lo+1 values in the low heap; every value in it stays <= every value in the high heap. */
  #rebalance(): void {
    const n = this.size;
    const want = n === 0 ? 0 : Math.floor((n - 1) * this.p) + 1;
    while (this.#low.size > want) this.#high.push(this.#low.pop());
    while (this.#low.size < want) this.#low.push(this.#high.pop());
  }
}
