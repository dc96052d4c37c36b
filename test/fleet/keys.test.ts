/** Reading the fleet's values: what passes, what is refused (never applied), and which change is later. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fleetKeys, isLater, parseBypass, parseRamp, parseRollback, parseVersion } from '../../src/fleet/keys.js';

test('the key layout under ccrouter:<name>:', () => {
  const k = fleetKeys('fraud-v8');
  assert.deepEqual([k.bypass, k.version, k.channel, k.rollback('abc'), k.ramp('abc')],
    ['ccrouter:fraud-v8:bypass', 'ccrouter:fraud-v8:version', 'ccrouter:fraud-v8:changes', 'ccrouter:fraud-v8:rollback:abc', 'ccrouter:fraud-v8:ramp:abc']);
});

test('well-formed values are read; absent is null', () => {
  assert.deepEqual(parseBypass('{"on":true,"at":5,"origin":"a","seq":1}'), { ok: true, value: { on: true, at: 5, origin: 'a', seq: 1 } });
  assert.deepEqual(parseBypass(null), { ok: true, value: null });
  assert.deepEqual(parseRollback('{"at":5,"origin":"a","rule":null}'), { ok: true, value: { at: 5, origin: 'a', rule: null } });
  assert.deepEqual(parseRamp('{"start":5,"held":2,"origin":"a","extra":1}'), { ok: true, value: { start: 5, held: 2, origin: 'a' } });
  assert.deepEqual(parseVersion('12'), { ok: true, value: 12 });
});

test('malformed values are refused', () => {
  const bad = ['', 'garbage', '[]', 'null', '{"on":"yes","at":5,"origin":"a","seq":1}', '{"on":true,"at":-1,"origin":"a","seq":1}',
    '{"on":true,"at":1.5,"origin":"a","seq":1}', '{"on":true,"at":5,"origin":"","seq":1}', `{"on":true,"at":5,"origin":"${'x'.repeat(5000)}","seq":1}`,
    '{"__proto__":{"on":true},"at":5,"origin":"a","seq":1}'];
  for (const raw of bad) assert.equal(parseBypass(raw).ok, false, raw.slice(0, 60));
  assert.equal(parseRollback('{"at":5,"origin":"a","rule":7}').ok, false);
  assert.equal(parseRamp('{"start":"5","held":0,"origin":"a"}').ok, false);
  assert.equal(parseVersion('many').ok, false);
  assert.equal(parseVersion(['1']).ok, false);
});

test('the later kill-switch change: by time, then by the origin\'s counter; a tie is not later', () => {
  const v = (at: number, seq: number, origin = 'a') => ({ on: true, at, origin, seq });
  assert.equal(isLater(v(2, 0), v(1, 9)), true);
  assert.equal(isLater(v(1, 2), v(1, 1)), true);
  assert.equal(isLater(v(1, 1, 'b'), v(1, 1, 'a')), false);
  assert.equal(isLater(v(1, 1), null), true);
});
