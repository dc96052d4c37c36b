import { test } from 'node:test';
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import { SlidingQuantile } from '../../src/guardrails/sliding-quantile.js';
import { IndexedHeap } from '../../src/guardrails/indexed-heap.js';

/** The definition itself: sort, h = (n − 1)·p, interpolate between x[⌊h⌋] and x[⌊h⌋+1]. */
function naive(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

function close(actual: number | null, expected: number, message?: string) {
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${message ?? ''} expected ${expected}, got ${actual}`);
}

test('p99 of 1..100 is 99.01 (h = 99 × 0.99 = 98.01: 99 + 0.01 × (100 − 99))', () => {
  const q = new SlidingQuantile(100, 0.99);
  // Inserted out of order: the heaps, not the insertion order, sort them.
  for (let i = 0; i < 100; i++) q.add(i, ((i * 37) % 100) + 1);
  close(q.value(), 99.01);
});

test('p99 slides: [10, 20, 30, 40, 50] → 49.6, after 10 leaves and 60 comes → 59.6', () => {
  const q = new SlidingQuantile(5, 0.99);
  [10, 20, 30, 40, 50].forEach((v, i) => q.add(i, v));
  // h = 4 × 0.99 = 3.96: 40 + 0.96 × 10
  close(q.value(), 49.6);
  q.add(0, 60); // slot 0 held 10: replaced
  close(q.value(), 59.6);
  q.remove(4); // 50 leaves: [20, 30, 40, 60], h = 2.97: 40 + 0.97 × 20
  close(q.value(), 59.4);
  assert.equal(q.size, 4);
});

test('one value is its own p99; empty is null; ties are fine', () => {
  const q = new SlidingQuantile(3, 0.99);
  assert.equal(q.value(), null);
  q.add(1, 7);
  assert.equal(q.value(), 7);
  q.add(0, 7);
  q.add(2, 7);
  assert.equal(q.value(), 7);
  q.remove(1);
  q.remove(1); // absent: no-op
  assert.equal(q.size, 2);
  q.clear();
  assert.equal(q.value(), null);
});

test('median and extremes: p = 0.5, 0 and 1', () => {
  for (const [p, expected] of [[0.5, 2.5], [0, 1], [1, 4]] as const) {
    const q = new SlidingQuantile(4, p);
    [4, 1, 3, 2].forEach((v, i) => q.add(i, v));
    close(q.value(), expected, `p=${p}`);
  }
});

test('matches the definition under 5000 random adds and removes (window 50, with ties)', () => {
  const rng = seedrandom('sliding-quantile');
  for (const p of [0.99, 0.9, 0.5, 0.01]) {
    const cap = 50;
    const q = new SlidingQuantile(cap, p);
    const held = new Map<number, number>();
    for (let step = 0; step < 5000; step++) {
      const slot = Math.floor(rng() * cap);
      if (rng() < 0.3) {
        q.remove(slot);
        held.delete(slot);
      } else {
        // Few distinct values: many ties.
        const v = Math.floor(rng() * 20) / 4;
        q.add(slot, v);
        held.set(slot, v);
      }
      assert.equal(q.size, held.size);
      const expected = naive([...held.values()], p);
      if (expected === null) assert.equal(q.value(), null);
      else close(q.value(), expected, `p=${p} step ${step}`);
    }
  }
});

test('rejects a bad capacity, p or value, naming what it got', () => {
  assert.throws(() => new SlidingQuantile(0, 0.99), /capacity must be an integer >= 1, got 0/);
  assert.throws(() => new SlidingQuantile(10, 1.5), /p must be in \[0, 1\], got 1.5/);
  assert.throws(() => new SlidingQuantile(10, 0.99).add(0, NaN), /finite number, got NaN/);
});

test('IndexedHeap: removing any slot keeps the heap order', () => {
  const values = Float64Array.from([5, 3, 8, 1, 9, 2, 7]);
  const h = new IndexedHeap(values, 'min');
  for (let i = 0; i < values.length; i++) h.push(i);
  h.remove(3); // the 1
  h.remove(2); // the 8
  const out: number[] = [];
  while (h.size > 0) out.push(values[h.pop()]!);
  assert.deepEqual(out, [2, 3, 5, 7, 9]);
  assert.equal(h.pop(), -1);
  assert.throws(() => { h.push(0); h.push(0); }, /slot 0 is already in the heap/);
});
