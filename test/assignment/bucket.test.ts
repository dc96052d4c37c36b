import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { bucketOf, createRandomSource, groupOf } from '../../src/assignment/bucket.js';
import { keyFromValue, parseUnitSource, queryValue, readUnitKey } from '../../src/assignment/unit-key.js';

const vectors = JSON.parse(fs.readFileSync(new URL('../fixtures/assignment/vectors.json', import.meta.url), 'utf8')) as {
  fractions: Array<{ control: number; challenger: number }>;
  cases: Array<{ salt: string; key: string; bucket: number; groups: string[] }>;
};

test('the SPEC example: salt fraud-v8-ramp, unit u-123', () => {
  assert.equal(bucketOf('fraud-v8-ramp', 'u-123'), 0.13937131520971816);
});

test('fixed vectors: bucket and group for several fractions', () => {
  assert.ok(vectors.cases.length >= 20);
  for (const c of vectors.cases) {
    const bucket = bucketOf(c.salt, c.key);
    assert.equal(bucket, c.bucket, `bucket of ${c.salt}:${c.key}`);
    vectors.fractions.forEach((f, i) => assert.equal(groupOf(bucket, f), c.groups[i], `group of ${c.key} at ${JSON.stringify(f)}`));
  }
});

test('raising the ramp only moves champion units into the challenger group', () => {
  const steps = [0, 0.01, 0.05, 0.1, 0.3, 0.6, 0.95];
  const control = 0.05;
  for (let i = 0; i < 5000; i++) {
    const b = bucketOf('ramp', `u-${i}`);
    let prev = groupOf(b, { control, challenger: steps[0]! });
    for (const s of steps.slice(1)) {
      const g = groupOf(b, { control, challenger: s });
      if (prev === 'challenger') assert.equal(g, 'challenger', `u-${i} left the challenger group at ${s}`);
      if (prev === 'control') assert.equal(g, 'control', `u-${i} left control at ${s}`);
      prev = g;
    }
  }
});

test('group shares within 4 standard errors over 100 000 units', () => {
  const f = { control: 0.05, challenger: 0.1 };
  const n = 100_000;
  const counts = { control: 0, champion: 0, challenger: 0 };
  for (let i = 0; i < n; i++) counts[groupOf(bucketOf('shares', `unit-${i}`), f)]++;
  const expected = { control: f.control, champion: 1 - f.control - f.challenger, challenger: f.challenger };
  for (const g of ['control', 'champion', 'challenger'] as const) {
    const p = expected[g];
    const se = Math.sqrt((p * (1 - p)) / n);
    assert.ok(Math.abs(counts[g] / n - p) < 4 * se, `${g}: ${counts[g] / n} vs ${p} (se ${se})`);
  }
});

test('stickiness: the same unit always lands in the same bucket and group', () => {
  const f = { control: 0.1, challenger: 0.4 };
  for (let i = 0; i < 200; i++) {
    const first = groupOf(bucketOf('s', `u-${i}`), f);
    for (let k = 0; k < 3; k++) assert.equal(groupOf(bucketOf('s', `u-${i}`), f), first);
  }
});

test('the no-key generator is seeded as seedrandom(String(seed))', () => {
  const a = createRandomSource(42);
  const b = createRandomSource('42');
  assert.deepEqual([a(), a(), a()], [b(), b(), b()]);
  const c = createRandomSource(undefined);
  const d = createRandomSource(undefined);
  assert.notEqual(c(), d());
});

test('unit keys: header, query (first value), body pointer, value conversion', () => {
  assert.deepEqual(parseUnitSource('header:X-User-Id'), { kind: 'header', name: 'x-user-id' });
  assert.equal(readUnitKey(parseUnitSource('header:x-user-id'), { headers: { 'x-user-id': 'u-1' }, url: '/' }), 'u-1');
  assert.equal(readUnitKey(parseUnitSource('header:x-user-id'), { headers: {}, url: '/' }), null);
  assert.equal(queryValue('/p?user=a&user=b', 'user'), 'a');
  assert.equal(queryValue('/p?other=1', 'user'), null);
  assert.equal(queryValue('/p', 'user'), null);
  const body = parseUnitSource('body:/customer/id');
  assert.equal(readUnitKey(body, { headers: {}, url: '/', json: { customer: { id: 42 } } }), '42');
  assert.equal(readUnitKey(body, { headers: {}, url: '/', json: { customer: { id: true } } }), 'true');
  for (const v of [{}, [], null, '']) assert.equal(keyFromValue(v), null, JSON.stringify(v));
  assert.equal(readUnitKey(parseUnitSource('none'), { headers: { 'x-user-id': 'u' }, url: '/' }), null);
});
