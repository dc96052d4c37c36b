import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  deriveVariants, listFields, LONG_STRING_LENGTH, MAX_ARRAY_ITEMS, MAX_DEPTH, MAX_FIELDS, NON_ASCII,
  PERTURBATION_KINDS, perturbSample, renderVariant, type JsonObject,
} from '../../src/probe/perturb.js';

const rendered = (samples: JsonObject[]) => deriveVariants(samples).map((v) => [v.kind, v.field, v.sample, renderVariant(samples, v)]);

test('a small sample gives exactly these variants, in this order', () => {
  const samples = [{ n: 2, s: 'ab', b: true, o: { z: null } }];
  assert.deepEqual(rendered(samples), [
    ['original', null, 0, '{"n":2,"s":"ab","b":true,"o":{"z":null}}'],
    ['field_removed', '/n', 0, '{"s":"ab","b":true,"o":{"z":null}}'],
    ['null', '/n', 0, '{"n":null,"s":"ab","b":true,"o":{"z":null}}'],
    ['wrong_type', '/n', 0, '{"n":"2","s":"ab","b":true,"o":{"z":null}}'],
    ['extreme_number', '/n', 0, '{"n":1e+308,"s":"ab","b":true,"o":{"z":null}}'],
    ['extreme_number', '/n', 0, '{"n":-1e+308,"s":"ab","b":true,"o":{"z":null}}'],
    ['extreme_number', '/n', 0, '{"n":0,"s":"ab","b":true,"o":{"z":null}}'],
    ['field_removed', '/s', 0, '{"n":2,"b":true,"o":{"z":null}}'],
    ['null', '/s', 0, '{"n":2,"s":null,"b":true,"o":{"z":null}}'],
    ['wrong_type', '/s', 0, '{"n":2,"s":2,"b":true,"o":{"z":null}}'],
    ['empty_string', '/s', 0, '{"n":2,"s":"","b":true,"o":{"z":null}}'],
    ['long_string', '/s', 0, `{"n":2,"s":"${'x'.repeat(LONG_STRING_LENGTH)}","b":true,"o":{"z":null}}`],
    ['non_ascii', '/s', 0, `{"n":2,"s":"${NON_ASCII}","b":true,"o":{"z":null}}`],
    ['field_removed', '/b', 0, '{"n":2,"s":"ab","o":{"z":null}}'],
    ['null', '/b', 0, '{"n":2,"s":"ab","b":null,"o":{"z":null}}'],
    ['wrong_type', '/b', 0, '{"n":2,"s":"ab","b":"true","o":{"z":null}}'],
    ['field_removed', '/o', 0, '{"n":2,"s":"ab","b":true}'],
    ['null', '/o', 0, '{"n":2,"s":"ab","b":true,"o":null}'],
    ['wrong_type', '/o', 0, '{"n":2,"s":"ab","b":true,"o":"{\\"z\\":null}"}'],
    // a null field: removed only (it has no null variant and no type to get wrong)
    ['field_removed', '/o/z', 0, '{"n":2,"s":"ab","b":true,"o":{}}'],
    ['malformed_json', null, 0, '{"n":2,"s":"ab","b":'], // the first half of the text
    ['jitter', '/n', 0, '{"n":2.02,"s":"ab","b":true,"o":{"z":null}}'],
    ['jitter', '/n', 0, '{"n":1.98,"s":"ab","b":true,"o":{"z":null}}'],
    ['empty_object', null, null, '{}'],
  ]);
});

test('derivation is deterministic and never changes the samples', () => {
  const samples = [{ a: 1, list: [1, { x: 'y' }], deep: { k: 0.5 } }, { t: 'text' }];
  const before = JSON.stringify(samples);
  assert.deepEqual(rendered(samples), rendered(samples));
  assert.equal(JSON.stringify(samples), before);
});

test('every kind is derived from a sample with numbers, strings, booleans and nesting', () => {
  const kinds = new Set(deriveVariants([{ amount: 12.5, country: 'US', flag: false, card: { bin: '4111' } }]).map((v) => v.kind));
  assert.deepEqual([...kinds].sort(), [...PERTURBATION_KINDS].sort());
});

test('malformed_json is never valid JSON; every other body is', () => {
  const samples = [{ a: 1 }, { b: 'x', c: [1, 2] }, {}];
  for (const v of deriveVariants(samples)) {
    const body = renderVariant(samples, v);
    if (v.kind === 'malformed_json') assert.throws(() => JSON.parse(body), SyntaxError, body);
    else assert.doesNotThrow(() => JSON.parse(body), body);
  }
});

test('array elements are fields: removing one splices it out', () => {
  const samples = [{ inputs: [{ name: 'amount', data: [10] }] }];
  const variants = deriveVariants(samples);
  const removed = variants.find((v) => v.kind === 'field_removed' && v.field === '/inputs/0/data/0')!;
  assert.equal(renderVariant(samples, removed), '{"inputs":[{"name":"amount","data":[]}]}');
  const jitter = variants.filter((v) => v.kind === 'jitter').map((v) => renderVariant(samples, v));
  assert.deepEqual(jitter, ['{"inputs":[{"name":"amount","data":[10.1]}]}', '{"inputs":[{"name":"amount","data":[9.9]}]}']);
});

test('field listing is bounded: depth, array items, total fields; top-level fields come first', () => {
  const deep = { a: { b: { c: { d: { e: 1 } } } } };
  assert.equal(Math.max(...listFields(deep).map((f) => f.path.length)), MAX_DEPTH);
  const long = { list: Array.from({ length: 50 }, (_, i) => i) };
  assert.equal(listFields(long).length, 1 + MAX_ARRAY_ITEMS);
  const wide: JsonObject = { nested: { inner: 1 } };
  for (let i = 0; i < 2 * MAX_FIELDS; i++) wide[`f${i}`] = i;
  const fields = listFields(wide);
  assert.equal(fields.length, MAX_FIELDS);
  assert.ok(fields.every((f) => f.path.length === 1), 'top-level fields fill the budget before nested ones');
});

test('a "__proto__" key stays an ordinary key in every variant', () => {
  const samples = [JSON.parse('{"__proto__":{"x":1},"y":2}') as JsonObject];
  const nulled = deriveVariants(samples).find((v) => v.kind === 'null' && v.field === '/y')!;
  assert.equal(renderVariant(samples, nulled), '{"__proto__":{"x":1},"y":null}');
});

test('zero and the extreme values already present get no duplicate variants', () => {
  const kinds = perturbSample({ z: 0 }, 0).filter((v) => v.kind === 'extreme_number' || v.kind === 'jitter');
  assert.deepEqual(kinds.map((v) => v.kind), ['extreme_number', 'extreme_number']);
});
