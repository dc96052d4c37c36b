import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstContentEncoding, rawHeaderList } from '../../src/upstream/raw-headers.js';

const text = (list: Buffer[]) => list.map((b) => b.toString('latin1'));

test('undici\'s raw Buffer list is used as is (no copy)', () => {
  const raw = [Buffer.from('Content-Type'), Buffer.from('application/json')];
  assert.equal(rawHeaderList(raw, { 'content-type': 'ignored' }), raw);
  const empty: Buffer[] = [];
  assert.equal(rawHeaderList(empty, {}), empty);
});

test('without a raw Buffer list, the parsed headers are flattened: one pair per value, repeated headers kept', () => {
  const headers = { 'set-cookie': ['a=1', 'b=2'], 'content-type': 'application/json', 'x-missing': undefined };
  for (const raw of [undefined, null, ['content-type', 'text/plain'], headers]) {
    assert.deepEqual(text(rawHeaderList(raw, headers)), ['set-cookie', 'a=1', 'set-cookie', 'b=2', 'content-type', 'application/json']);
  }
});

test('flattening keeps latin1 bytes and a header named __proto__ as an ordinary name', () => {
  const headers = Object.create(null) as Record<string, string>;
  Object.defineProperty(headers, '__proto__', { value: 'x', enumerable: true });
  headers['x-name'] = 'caf\u00e9';
  const out = rawHeaderList(null, headers);
  assert.deepEqual(text(out), ['__proto__', 'x', 'x-name', 'caf\u00e9']);
  assert.deepEqual([...out[3]!], [0x63, 0x61, 0x66, 0xe9]);
});

test('firstContentEncoding: the value, the first of repeated ones, or undefined', () => {
  assert.equal(firstContentEncoding({ 'content-encoding': 'gzip' }), 'gzip');
  assert.equal(firstContentEncoding({ 'content-encoding': ['identity', 'gzip'] } as never), 'identity');
  assert.equal(firstContentEncoding({}), undefined);
});
