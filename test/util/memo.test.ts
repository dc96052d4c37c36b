import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoByKey } from '../../src/util/memo.js';
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
