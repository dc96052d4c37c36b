import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePointer, resolvePointer, setOwn, setPointer } from '../../src/util/json-pointer.js';

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
