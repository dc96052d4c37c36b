import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPointer, parsePointer, resolvePointer, setOwn, setPointer } from '../../src/util/json-pointer.js';

test('parsePointer: RFC 6901 tokens, ~1 unescaped before ~0', () => {
  assert.deepEqual(parsePointer(''), []);
  assert.deepEqual(parsePointer('/'), ['']);
  assert.deepEqual(parsePointer('/a/0/b'), ['a', '0', 'b']);
  assert.deepEqual(parsePointer('/a~1b/m~0n'), ['a/b', 'm~n']);
  assert.deepEqual(parsePointer('/~01'), ['~1'], '"~01" is "~" then "1", not "/"');
  assert.deepEqual(parsePointer('//x/'), ['', 'x', '']);
});

test('parsePointer rejects a pointer without a leading slash or with a bad escape, quoting it', () => {
  assert.throws(() => parsePointer('score'), { message: 'must be a JSON Pointer starting with "/", got "score"' });
  assert.throws(() => parsePointer('#/score'), /starting with "\/", got "#\/score"/);
  assert.throws(() => parsePointer('/a~2'), { message: 'invalid escape in JSON Pointer "/a~2" ("~" must be followed by 0 or 1)' });
  assert.throws(() => parsePointer('/a~'), /invalid escape in JSON Pointer "\/a~"/);
});

test('resolvePointer walks objects and arrays (the RFC 6901 examples)', () => {
  const doc = JSON.parse('{"foo":["bar","baz"],"":0,"a/b":1,"c%d":2,"e^f":3,"g|h":4,"i\\\\j":5,"k\\"l":6," ":7,"m~n":8}');
  const cases: Array<[string, unknown]> = [
    ['', doc], ['/foo', ['bar', 'baz']], ['/foo/0', 'bar'], ['/', 0], ['/a~1b', 1], ['/c%d', 2], ['/e^f', 3],
    ['/g|h', 4], ['/i\\j', 5], ['/k"l', 6], ['/ ', 7], ['/m~0n', 8],
  ];
  for (const [p, want] of cases) assert.deepEqual(resolvePointer(doc, parsePointer(p)), want, p);
});

test('resolvePointer: missing steps, non-canonical indexes and inherited names are undefined', () => {
  const doc = { a: [10, 20], n: null, s: 'str', o: { x: 0 } };
  for (const p of ['/b', '/a/2', '/a/01', '/a/-', '/a/1.0', '/a/-1', '/a/length', '/n/x', '/s/0', '/s/length', '/o/x/y',
    '/constructor', '/__proto__', '/toString', '/o/hasOwnProperty']) {
    assert.equal(resolvePointer(doc, parsePointer(p)), undefined, p);
  }
  assert.equal(resolvePointer(doc, parsePointer('/n')), null);
  assert.equal(resolvePointer(doc, parsePointer('/o/x')), 0);
  assert.equal(resolvePointer(JSON.parse('{"__proto__":{"x":1}}'), parsePointer('/__proto__/x')), 1, 'a parsed own __proto__ key is data');
  assert.equal(resolvePointer(42, parsePointer('/a')), undefined);
});

test('setPointer sets, creating objects on the way', () => {
  const doc: Record<string, unknown> = { a: { b: 1 } };
  assert.equal(setPointer(doc, parsePointer('/a/b'), 2), true);
  assert.equal(setPointer(doc, parsePointer('/x/y/z'), 3), true);
  assert.deepEqual(doc, { a: { b: 2 }, x: { y: { z: 3 } } });
});

test('setPointer on arrays: an existing index or "-" (append); a step into a missing index creates an object', () => {
  const doc = { list: [1, 2] as unknown[] };
  assert.equal(setPointer(doc, parsePointer('/list/0'), 9), true);
  assert.equal(setPointer(doc, parsePointer('/list/-'), 3), true);
  assert.equal(setPointer(doc, parsePointer('/list/3/k'), 4), true);
  assert.deepEqual(doc, { list: [9, 2, 3, { k: 4 }] });
});

test('setPointer refuses, changing nothing: the root, a non-container document or step, an index past the end or not canonical', () => {
  const doc = { a: 1, s: 'str', list: [1] };
  const before = JSON.stringify(doc);
  for (const p of ['/a/b', '/s/0', '/list/5', '/list/01', '/list/x', '/list/5/k']) {
    assert.equal(setPointer(doc, parsePointer(p), 0), false, p);
  }
  assert.equal(JSON.stringify(doc), before);
  assert.equal(setPointer(doc, parsePointer(''), 0), false);
  assert.equal(setPointer(null, parsePointer('/a'), 0), false);
  assert.equal(setPointer('str', parsePointer('/a'), 0), false);
});


test('setPointer through and at "__proto__" writes own members, never a prototype', () => {
  const doc = JSON.parse('{"a":{}}') as Record<string, any>;
  assert.equal(setPointer(doc, parsePointer('/__proto__/x'), 1), true);
  assert.equal(setPointer(doc, parsePointer('/a/__proto__'), '[REDACTED]'), true);
  assert.equal(JSON.stringify(doc), '{"a":{"__proto__":"[REDACTED]"},"__proto__":{"x":1}}');
  assert.equal(Object.getPrototypeOf(doc), Object.prototype);
  assert.equal(Object.getPrototypeOf(doc.a), Object.prototype);
  assert.equal(resolvePointer(doc, parsePointer('/__proto__/x')), 1);
  assert.equal(({} as Record<string, unknown>).x, undefined);
});

test('setOwn: "__proto__" becomes a member; other keys are plain assignments', () => {
  const o: Record<string, unknown> = {};
  setOwn(o, '__proto__', { polluted: true });
  setOwn(o, 'b', 2);
  assert.equal(JSON.stringify(o), '{"__proto__":{"polluted":true},"b":2}');
  assert.equal((o as { polluted?: unknown }).polluted, undefined);
});

test('formatPointer is the inverse of parsePointer, escaping "~" before "/"', () => {
  for (const p of ['', '/', '/a/0/b', '/a~1b/m~0n', '/~01', '//x/']) assert.equal(formatPointer(parsePointer(p)), p);
  assert.equal(formatPointer(['a/b', 'm~n', '~1']), '/a~1b/m~0n/~01');
});
