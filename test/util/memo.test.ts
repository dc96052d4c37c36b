import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_CACHED_KEY, MEMO_KEY_CHARS, memoByKey } from '../../src/util/memo.js';
import { hashUnit, unitFormatter } from '../../src/records/pair.js';
import { bucketOf, memoBucketOf } from '../../src/assignment/bucket.js';

test('memoByKey: computes a key once, stays exact past its bound', () => {
  const calls: string[] = [];
  const f = memoByKey((k) => (calls.push(k), k.length), 2);
  assert.equal(f('ab'), 2);
  assert.equal(f('ab'), 2);
  assert.deepEqual(calls, ['ab']);
  assert.equal(f('c'), 1);
  assert.equal(f('def'), 3); // third key: the memory starts over
  assert.equal(f('ab'), 2);
  assert.deepEqual(calls, ['ab', 'c', 'def', 'ab']);
});

test('memoBucketOf gives bucketOf exactly', () => {
  const memo = memoBucketOf('salt');
  for (const key of ['u-1', 'u-2', 'u-1', '', 'ü']) assert.equal(memo(key), bucketOf('salt', key));
});

test('memoByKey: keys longer than MAX_CACHED_KEY are computed every time (never kept), and stay exact', () => {
  const calls: number[] = [];
  const f = memoByKey((k) => (calls.push(k.length), k.length));
  const long = 'k'.repeat(MAX_CACHED_KEY + 1);
  const edge = 'k'.repeat(MAX_CACHED_KEY);
  assert.equal(f(long), MAX_CACHED_KEY + 1);
  assert.equal(f(long), MAX_CACHED_KEY + 1);
  assert.equal(f(edge), MAX_CACHED_KEY);
  assert.equal(f(edge), MAX_CACHED_KEY);
  assert.deepEqual(calls, [MAX_CACHED_KEY + 1, MAX_CACHED_KEY + 1, MAX_CACHED_KEY], 'the long key twice, the edge key once');
});

test('memoByKey: the memory is bounded in characters of keys, not only in entries', () => {
  const calls: string[] = [];
  const f = memoByKey((k) => (calls.push(k), k.length));
  const key = (i: number) => String(i).padStart(MAX_CACHED_KEY, '0');
  const fit = Math.floor(MEMO_KEY_CHARS / MAX_CACHED_KEY);
  for (let i = 0; i < fit; i++) f(key(i));
  f(key(0));
  assert.equal(calls.length, fit, 'every key held while the keys fit');
  f(key(fit)); // one key too many: the memory starts over
  f(key(1));
  assert.equal(calls.length, fit + 2);
  assert.equal(calls.at(-1), key(1));
});

test('memoBucketOf and the unit hash give the SPEC values for keys over the cached length, every time', () => {
  const memo = memoBucketOf('salt');
  const hash = unitFormatter('hash', 'salt');
  for (const key of ['x'.repeat(MAX_CACHED_KEY), 'x'.repeat(MAX_CACHED_KEY + 1), 'é'.repeat(100_000), 'x'.repeat(MAX_CACHED_KEY + 1)]) {
    assert.equal(memo(key), bucketOf('salt', key));
    assert.equal(hash(key), hashUnit(key, 'salt'));
  }
});
