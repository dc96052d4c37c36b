/** The levers without a server: the pure effective-config function and the lever holder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configId } from '../../src/config/id.js';
import { loadConfigObject } from '../../src/config/load.js';
import { effectiveConfig } from '../../src/runtime/effective.js';
import { Levers, type LeverChange } from '../../src/runtime/levers.js';

const file = loadConfigObject({
  models: { champion: { url: 'http://127.0.0.1:9001', version: 'v1' }, challenger: { url: 'http://127.0.0.1:9002', version: 'v2' } },
  routes: [{ path: '/predict', score: '/score' }],
  traffic: { control: 0.05, challenger: 0.1 },
});
const idle = { bypass: false, rolledBack: false, rampFraction: null };

test('effectiveConfig: no lever moved → the file config itself and its id', () => {
  const e = effectiveConfig(file, idle);
  assert.equal(e.config, file.config);
  assert.equal(e.id, file.id);
});

test('effectiveConfig: each lever yields the config it describes, with the id of that config', () => {
  const cases = [
    [{ ...idle, bypass: true }, 'bypass', 0.1],
    [{ ...idle, rolledBack: true }, 'normal', 0],
    [{ ...idle, rampFraction: 0.3 }, 'normal', 0.3],
    [{ ...idle, rolledBack: true, rampFraction: 0.3 }, 'normal', 0],
  ] as const;
  for (const [levers, mode, challenger] of cases) {
    const e = effectiveConfig(file, levers);
    assert.equal(e.config.mode, mode);
    assert.equal(e.config.traffic.challenger, challenger);
    assert.equal(e.config.traffic.control, 0.05);
    assert.equal(e.id, configId(e.config));
    assert.notEqual(e.id, file.id);
    assert.ok(Object.isFrozen(e.config) && Object.isFrozen(e.config.traffic));
  }
  // Pure: the same inputs give the same id anywhere.
  assert.equal(effectiveConfig(file, { ...idle, rampFraction: 0.3 }).id, effectiveConfig(file, { ...idle, rampFraction: 0.3 }).id);
});

test('Levers: every change is told to each listener in order; reset clears rollback, trip and ramp fraction', () => {
  const levers = new Levers(false);
  const told: Array<[string, LeverChange]> = [];
  levers.onChange((c) => told.push(['a', c]));
  const off = levers.onChange((c) => told.push(['b', c]));
  levers.setBypass(true);
  levers.rollback();
  levers.trip('error_rate');
  levers.setRamp({ fraction: 0.2, step: 1, next: 1000 });
  assert.deepEqual(levers.values(), { bypass: true, rolledBack: true, rampFraction: 0.2 });
  assert.deepEqual(levers.guardrail, { tripped: true, rule: 'error_rate' });
  assert.deepEqual(levers.ramp, { step: 1, next: 1000 });
  off();
  levers.reset(false);
  assert.deepEqual(levers.values(), idle);
  assert.deepEqual(levers.guardrail, { tripped: false, rule: null });
  assert.deepEqual(told, [['a', 'bypass'], ['b', 'bypass'], ['a', 'rollback'], ['b', 'rollback'], ['a', 'trip'], ['b', 'trip'], ['a', 'ramp'], ['b', 'ramp'], ['a', 'reset']]);
});
