import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Chunks, EMPTY } from '../../src/util/chunks.js';

test('Chunks: nothing added gives the empty body', () => {
  const c = new Chunks();
  assert.equal(c.take(), EMPTY);
  assert.equal(c.size, 0);
});

test('Chunks: one chunk comes back as itself, not a copy', () => {
  const c = new Chunks();
  const chunk = Buffer.from('{"score":0.4}');
  c.add(chunk);
  assert.equal(c.take(), chunk);
  assert.equal(c.size, chunk.length);
});

test('Chunks: several chunks are joined in order, then let go', () => {
  const c = new Chunks();
  for (const s of ['{"sc', 'ore":', '0.4}']) c.add(Buffer.from(s));
  assert.equal(c.size, 13);
  assert.equal(c.take().toString(), '{"score":0.4}');
  assert.equal(c.take(), EMPTY);
});
