import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { nextStepAbove, stepIndex } from '../../src/guardrails/ramp.js';
import { applyReload } from '../../src/runtime/reload.js';
import { guardedRuntime, type Harness } from './harness.js';
import { pair } from './records.js';

const T0 = 1_800_000_000_000;
const EVERY = 60_000;

const harness = (t: TestContext, extra: Record<string, unknown>): Promise<Harness> => guardedRuntime(t, extra, T0);

const steps = (h: Harness) => h.events().filter((e) => e.type === 'ramp_step').map((e) => [e.from, e.to, e.traffic.challenger]);

test('nextStepAbove / stepIndex', () => {
  assert.equal(nextStepAbove([0.01, 0.05, 0.1], 0), 0);
  assert.equal(nextStepAbove([0.01, 0.05, 0.1], 0.01), 1);
  assert.equal(nextStepAbove([0.01, 0.05, 0.1], 0.03), 1);
  assert.equal(nextStepAbove([0.01, 0.05, 0.1], 0.1), -1);
  assert.equal(nextStepAbove([0.01, 0.05, 0.1], 0.5), -1);
  assert.equal(stepIndex([0.01, 0.05, 0.1], 0.05), 1);
  assert.equal(stepIndex([0.01, 0.05, 0.1], 0.03), null);
});

test('steps advance every `every`, each announced with from/to and a new config id, and stop at the last', async (t) => {
  const h = await harness(t, { ramp: { steps: [0.01, 0.05, 0.1], every: EVERY } });
  const { rt } = h;
  assert.deepEqual(rt.ramp, { step: null, next: T0 + EVERY });
  const id0 = rt.snapshot.id;
  t.mock.timers.tick(EVERY - 1);
  assert.equal(rt.snapshot.config.traffic.challenger, 0);
  t.mock.timers.tick(1);
  assert.equal(rt.snapshot.config.traffic.challenger, 0.01);
  assert.deepEqual(rt.ramp, { step: 0, next: T0 + 2 * EVERY });
  assert.notEqual(rt.snapshot.id, id0);
  t.mock.timers.tick(EVERY);
  t.mock.timers.tick(EVERY);
  assert.equal(rt.snapshot.config.traffic.challenger, 0.1);
  assert.deepEqual(rt.ramp, { step: 2, next: null });
  for (let i = 0; i < 10; i++) t.mock.timers.tick(EVERY);
  assert.deepEqual(steps(h), [[0, 0.01, 0.01], [0.01, 0.05, 0.05], [0.05, 0.1, 0.1]]);
  const last = h.events().at(-1)!;
  assert.equal(last.config, rt.snapshot.id);
  assert.equal(last.time, T0 + 3 * EVERY);
  assert.deepEqual((rt.status() as { ramp: unknown }).ramp, { step: 2, next: null });
});

test('starts from the file\'s fraction: between two steps, step is null and the next one above is taken', async (t) => {
  const between = await harness(t, { traffic: { challenger: 0.03 }, ramp: { steps: [0.01, 0.05, 0.1], every: EVERY } });
  assert.deepEqual(between.rt.ramp, { step: null, next: T0 + EVERY });
  t.mock.timers.tick(EVERY);
  assert.deepEqual(steps(between), [[0.03, 0.05, 0.05]]);
  assert.equal(between.rt.ramp.step, 1);
});

test('at the last step already: nothing scheduled', async (t) => {
  const h = await harness(t, { traffic: { challenger: 0.1 }, ramp: { steps: [0.01, 0.05, 0.1], every: EVERY } });
  assert.deepEqual(h.rt.ramp, { step: 2, next: null });
  t.mock.timers.tick(5 * EVERY);
  assert.deepEqual(steps(h), []);
});

test('a guardrail trip stops the schedule at once (rollback)', async (t) => {
  const h = await harness(t, {
    ramp: { steps: [0.01, 0.05, 0.1], every: EVERY },
    guardrails: { window: 10, minSamples: 5, maxErrorRate: 0.1 },
  });
  const { rt } = h;
  t.mock.timers.tick(EVERY);
  assert.equal(rt.snapshot.config.traffic.challenger, 0.01);
  for (let i = 0; i < 5; i++) rt.recorder.write(pair({}, { error: 'status' }));
  assert.equal(rt.guardrail.tripped, true);
  assert.deepEqual(rt.ramp, { step: 0, next: null });
  for (let i = 0; i < 5; i++) t.mock.timers.tick(EVERY);
  assert.equal(rt.snapshot.config.traffic.challenger, 0);
  assert.deepEqual(h.events().map((e) => e.type), ['ramp_step', 'guardrail_tripped', 'rollback']);
});

test('a guardrail trip with action: alert stops the schedule too, at the current step', async (t) => {
  const h = await harness(t, {
    ramp: { steps: [0.01, 0.05, 0.1], every: EVERY },
    guardrails: { window: 10, minSamples: 5, maxErrorRate: 0.1, action: 'alert' },
  });
  t.mock.timers.tick(EVERY);
  for (let i = 0; i < 5; i++) h.rt.recorder.write(pair({}, { error: 'status' }));
  for (let i = 0; i < 5; i++) t.mock.timers.tick(EVERY);
  assert.equal(h.rt.snapshot.config.traffic.challenger, 0.01);
  assert.deepEqual(h.events().map((e) => e.type), ['ramp_step', 'guardrail_tripped']);
});

test('a config load restarts the schedule from the file\'s traffic.challenger (applyReload)', async (t) => {
  const h = await harness(t, {
    ramp: { steps: [0.01, 0.05, 0.1, 0.3], every: EVERY },
    guardrails: { window: 10, minSamples: 5, maxErrorRate: 0.1 },
  });
  const { rt } = h;
  t.mock.timers.tick(EVERY);
  t.mock.timers.tick(EVERY);
  assert.equal(rt.snapshot.config.traffic.challenger, 0.05);
  // Half-way to the next step, the file changes: restart from its 0.01, next step `every` from now.
  t.mock.timers.tick(EVERY / 2);
  h.rewrite({ traffic: { challenger: 0.01 }, ramp: { steps: [0.01, 0.05, 0.1, 0.3], every: EVERY }, guardrails: { window: 10, minSamples: 5, maxErrorRate: 0.1 } });
  await applyReload(rt, h.file, false, {});
  assert.equal(rt.snapshot.config.traffic.challenger, 0.01);
  assert.deepEqual(rt.ramp, { step: 0, next: T0 + 3.5 * EVERY });
  t.mock.timers.tick(EVERY);
  assert.equal(rt.snapshot.config.traffic.challenger, 0.05);

  // A trip stops it; the next config load clears the trip and starts it again.
  for (let i = 0; i < 5; i++) rt.recorder.write(pair({}, { error: 'status' }));
  t.mock.timers.tick(3 * EVERY);
  assert.equal(rt.snapshot.config.traffic.challenger, 0);
  h.rewrite({ traffic: { challenger: 0.05 }, ramp: { steps: [0.01, 0.05, 0.1, 0.3], every: EVERY }, guardrails: { window: 10, minSamples: 5, maxErrorRate: 0.1 } });
  await applyReload(rt, h.file, false, {});
  assert.deepEqual(rt.guardrail, { tripped: false, rule: null });
  assert.deepEqual(rt.ramp, { step: 1, next: T0 + 7.5 * EVERY });
  t.mock.timers.tick(EVERY);
  assert.equal(rt.snapshot.config.traffic.challenger, 0.1);

  assert.deepEqual(h.events().map((e) => e.type), [
    'ramp_step', 'ramp_step', 'config_loaded', 'ramp_step', 'guardrail_tripped', 'rollback', 'config_loaded', 'ramp_step',
  ]);
  assert.deepEqual(steps(h), [[0, 0.01, 0.01], [0.01, 0.05, 0.05], [0.01, 0.05, 0.05], [0.05, 0.1, 0.1]]);
});

test('a config load that removes the ramp stops it; one that adds it starts it', async (t) => {
  const h = await harness(t, { ramp: { steps: [0.5], every: EVERY } });
  h.rewrite({});
  await applyReload(h.rt, h.file, false, {});
  assert.deepEqual(h.rt.ramp, { step: null, next: null });
  t.mock.timers.tick(5 * EVERY);
  assert.deepEqual(steps(h), []);
  h.rewrite({ ramp: { steps: [0.5], every: 2 * EVERY } });
  await applyReload(h.rt, h.file, false, {});
  assert.deepEqual(h.rt.ramp, { step: null, next: T0 + 7 * EVERY });
  t.mock.timers.tick(2 * EVERY);
  assert.deepEqual(steps(h), [[0, 0.5, 0.5]]);
});

test('a rollback from the admin halts the schedule at its step', async (t) => {
  const rolled = await harness(t, { traffic: { challenger: 0.01 }, ramp: { steps: [0.01, 0.05], every: EVERY } });
  rolled.rt.rollback('admin');
  t.mock.timers.tick(3 * EVERY);
  assert.equal(rolled.rt.snapshot.config.traffic.challenger, 0);
  assert.deepEqual(rolled.rt.ramp, { step: 0, next: null });
  assert.deepEqual(rolled.events().map((e) => e.type), ['rollback']);
});

test('a rollback at fraction 0 halts the schedule without a ramp_step', async (t) => {
  const h = await harness(t, { ramp: { steps: [0.01, 0.05], every: EVERY } });
  h.rt.rollback('admin');
  t.mock.timers.tick(3 * EVERY);
  assert.equal(h.rt.snapshot.config.traffic.challenger, 0);
  assert.deepEqual(h.rt.ramp, { step: null, next: null });
  assert.deepEqual(h.events().map((e) => e.type), ['rollback']);
});

test('while the kill switch is on, a due step waits another `every`', async (t) => {
  const h = await harness(t, { ramp: { steps: [0.01, 0.05], every: EVERY } });
  h.rt.setBypass(true, 'admin');
  t.mock.timers.tick(EVERY);
  assert.equal(h.rt.snapshot.config.traffic.challenger, 0);
  assert.deepEqual(h.rt.ramp, { step: null, next: T0 + 2 * EVERY });
  h.rt.setBypass(false, 'admin');
  t.mock.timers.tick(EVERY);
  assert.equal(h.rt.snapshot.config.traffic.challenger, 0.01);
  assert.deepEqual(h.events().map((e) => e.type), ['bypass', 'bypass', 'ramp_step']);
});

test('an `every` beyond setTimeout\'s limit (30 days) is waited in chunks, not fired after 1 ms', async (t) => {
  const month = 30 * 24 * 3600 * 1000;
  const h = await harness(t, { ramp: { steps: [0.5], every: month } });
  assert.equal(h.rt.ramp.next, T0 + month);
  t.mock.timers.tick(2 ** 31 - 1);
  t.mock.timers.tick(1);
  assert.deepEqual(steps(h), []);
  t.mock.timers.tick(month - 2 ** 31);
  assert.deepEqual(steps(h), [[0, 0.5, 0.5]]);
});
