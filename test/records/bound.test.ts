import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dive } from '../helpers/nesting.js';
import { BODY_BOUND, FIELD_BOUND, TRUNCATED, bounded, boundedText, type Bound } from '../../src/records/bound.js';
import { bodyForRecord, fieldsOf } from '../../src/records/pair.js';
import { parsePointer } from '../../src/util/json-pointer.js';

/** `[[[...]]]` nested `n` deep, parsed (JSON.parse is not recursive: any depth parses). */
function nested(n: number): unknown {
  return JSON.parse('['.repeat(n) + ']'.repeat(n));
}

test('bounded: numbers, booleans, null and short strings are returned as they are (no copy)', () => {
  for (const v of [0, -1.5, 1e21, true, false, null, '', 'US', 'x'.repeat(FIELD_BOUND.chars - 2)]) assert.equal(bounded(v, FIELD_BOUND), v);
});

test('a value nested 5 000 deep is cut at the depth bound with the marker, and serializes', () => {
  for (const bound of [FIELD_BOUND, BODY_BOUND]) {
    const copy = bounded(nested(5000), bound);
    const { depth, bottom } = dive(copy);
    assert.equal(depth, bound.depth);
    assert.equal(bottom, TRUNCATED);
    assert.doesNotThrow(() => JSON.stringify({ fields: { deep: copy } }));
  }
  // Within the bound: the same value.
  assert.deepEqual(bounded(nested(FIELD_BOUND.depth), FIELD_BOUND), nested(FIELD_BOUND.depth));
});

test('deep objects are cut too, whatever the container kinds', () => {
  const text = '{"a":['.repeat(3000) + '1' + ']}'.repeat(3000);
  const copy = bounded(JSON.parse(text), FIELD_BOUND);
  const s = JSON.stringify(copy);
  assert.ok(s.includes(TRUNCATED));
  assert.ok(s.length < 400, `${s.length} characters`);
});

test('size: a long string, a long array and a wide object are cut at the character budget with the marker', () => {
  const bound: Bound = { depth: 8, chars: 1000 };
  const str = bounded('é'.repeat(5000), bound) as string;
  assert.ok(str.endsWith(TRUNCATED));
  assert.ok(JSON.stringify(str).length <= bound.chars);
  assert.ok(str.startsWith('éééé'));

  const arr = bounded(Array.from({ length: 100_000 }, (_, i) => i), bound) as unknown[];
  assert.equal(arr.at(-1), TRUNCATED);
  assert.deepEqual(arr.slice(0, 5), [0, 1, 2, 3, 4], 'the start is kept as it was');
  assert.ok(JSON.stringify(arr).length <= bound.chars + 20, `${JSON.stringify(arr).length}`);

  const wide = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'v'.repeat(i % 7)]));
  const obj = bounded(wide, bound) as Record<string, unknown>;
  assert.equal(obj[TRUNCATED], TRUNCATED);
  assert.equal(obj.k0, '');
  assert.ok(JSON.stringify(obj).length <= bound.chars + 40, `${JSON.stringify(obj).length}`);

  const longKey = bounded({ ['k'.repeat(5000)]: 1 }, bound) as Record<string, unknown>;
  const [key] = Object.keys(longKey);
  assert.ok(key!.endsWith(TRUNCATED) && key!.length < bound.chars);
});

test('nested budgets: every level adds at most one marker, the total stays near the budget', () => {
  const bound: Bound = { depth: 64, chars: 2000 };
  // Wide at every level: the budget runs out deep inside.
  let v: unknown = 'leaf';
  for (let i = 0; i < 40; i++) v = [Array.from({ length: 20 }, (_, j) => j), v, 'x'.repeat(100)];
  const s = JSON.stringify(bounded(v, bound));
  assert.ok(s.length <= bound.chars + 40 * (TRUNCATED.length + 3), `${s.length}`);
});

test('a string cut never splits a surrogate pair', () => {
  for (let room = 20; room < 40; room++) {
    const s = bounded('😀'.repeat(100), { depth: 1, chars: room }) as string;
    const body = s.slice(0, -TRUNCATED.length);
    assert.equal(body, '😀'.repeat(body.length / 2), `room ${room}`);
  }
});

test('the copy is a copy: writing into it (redaction) leaves the original alone; "__proto__" stays a key', () => {
  const original = JSON.parse('{"a":{"b":1},"__proto__":{"polluted":true},"list":[{"c":2}]}') as Record<string, any>;
  const copy = bounded(original, BODY_BOUND) as Record<string, any>;
  assert.deepEqual(copy, original);
  assert.equal(JSON.stringify(copy), JSON.stringify(original));
  assert.notEqual(copy.a, original.a);
  copy.a.b = 2;
  copy.list[0].c = 3;
  assert.equal(original.a.b, 1);
  assert.equal(original.list[0].c, 2);
  assert.ok(Object.prototype.hasOwnProperty.call(copy, '__proto__'));
  assert.equal(Object.getPrototypeOf(copy), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('boundedText: a large text body is cut before it is decoded', () => {
  const bound: Bound = { depth: 1, chars: 100 };
  assert.equal(boundedText(Buffer.from('short'), bound), 'short');
  const cut = boundedText(Buffer.from('x'.repeat(10_000)), bound);
  assert.ok(cut.endsWith(TRUNCATED));
  assert.ok(cut.length <= 98);
  // A cut inside a multi-byte character still ends with the marker, and the text stays a string.
  const multi = boundedText(Buffer.from('é'.repeat(200)), bound);
  assert.ok(multi.endsWith(TRUNCATED));
});

test('fieldsOf: deep and large values bounded, small ones as they are, a field named "__proto__" kept', () => {
  const json = JSON.parse(`{"country":"US","n":3,"deep":${'['.repeat(5000)}${']'.repeat(5000)},"big":"${'z'.repeat(100_000)}","p":{"x":1}}`);
  const fields = fieldsOf(json, [
    ['country', parsePointer('/country')],
    ['n', parsePointer('/n')],
    ['deep', parsePointer('/deep')],
    ['big', parsePointer('/big')],
    ['__proto__', parsePointer('/p')],
    ['absent', parsePointer('/nope')],
  ]);
  assert.equal(fields.country, 'US');
  assert.equal(fields.n, 3);
  assert.equal(fields.absent, null);
  assert.equal(dive(fields.deep).depth, FIELD_BOUND.depth);
  assert.ok((fields.big as string).endsWith(TRUNCATED));
  assert.ok((fields.big as string).length <= FIELD_BOUND.chars);
  assert.ok(Object.prototype.hasOwnProperty.call(fields, '__proto__'));
  assert.match(JSON.stringify(fields), /"__proto__":\{"x":1\}/);
});

test('bodyForRecord: a body nested 5 000 deep with redact is bounded and redacted; a long text body is cut', () => {
  const body = Buffer.from(`{"ssn":"123-45-6789","deep":${'['.repeat(5000)}${']'.repeat(5000)}}`);
  const rec = bodyForRecord(body, undefined, [parsePointer('/ssn')]) as Record<string, unknown>;
  assert.equal(rec.ssn, '[REDACTED]');
  assert.equal(dive(rec.deep).depth, BODY_BOUND.depth - 1);
  assert.doesNotThrow(() => JSON.stringify(rec));
  // The parsed request given by the caller is never written into.
  const json = JSON.parse(body.toString()) as Record<string, unknown>;
  bodyForRecord(body, json, [parsePointer('/ssn')]);
  assert.equal(json.ssn, '123-45-6789');

  const text = bodyForRecord(Buffer.from('not json '.repeat(300_000)), undefined, []) as string;
  assert.ok(text.endsWith(TRUNCATED));
  assert.ok(text.length <= BODY_BOUND.chars);
});
