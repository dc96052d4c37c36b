/**
 * Per-rule guardrail actions (`guardrails.actions`), alert rules re-arming, and no rule ever
 * silencing another: with real records (through a proxy and real model servers, or written through
 * the recorder) and fake timers where the ramp's time matters.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { request } from 'undici';
import { RULES, RuleWatch } from '../../src/guardrails/rules.js';
import { startGuardrails } from '../../src/guardrails/start.js';
import type { GuardrailWindow } from '../../src/guardrails/window.js';
import { readJsonl, startProxy, tempDir, testConfig, type TestProxy } from '../helpers/proxy.js';
import { startUpstream, type Behaviour } from '../helpers/upstream.js';
import { guardedRuntime } from './harness.js';
import { pair } from './records.js';

type T = { after(fn: () => unknown): void };

/** A model answering `{"score": s}` with s = `score(body)`, or 500 while `failing()`. */
function model(score: (body: any) => number, failing: () => boolean = () => false): Behaviour {
  return (req, res) => {
    if (failing()) {
      res.writeHead(500, { 'content-type': 'application/json' });
      return void res.end('{"error":"boom"}');
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ score: score(JSON.parse(req.body.toString('utf8'))) }));
  };
}

async function post(p: TestProxy, i: number): Promise<void> {
  const res = await request(p.url + '/predict', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': `u-${i}` },
    body: JSON.stringify({ i }),
  });
  await res.body.dump();
}

/** Requests from..from+n-1 one at a time, then wait until their records are written. */
async function drive(p: TestProxy, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) await post(p, i);
  for (let k = 0; k < 2000 && p.runtime.pendingRecords > 0; k++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(p.runtime.pendingRecords, 0);
}

/**
 * The champion acts on one request in four, the challenger on every one: a decision-rate ratio of
 * 4. `fail` turns the challenger into a model answering 500 to everything.
 */
async function decisionGapModels(t: T): Promise<{ champion: string; challenger: string; fail(): void }> {
  let failing = false;
  const champion = await startUpstream(model((b) => (b.i % 4 === 0 ? 0.9 : 0.1)));
  const challenger = await startUpstream(model(() => 0.9, () => failing));
  t.after(() => champion.close());
  t.after(() => challenger.close());
  return { champion: champion.url, challenger: challenger.url, fail: () => { failing = true; } };
}

const trips = (dir: string) => readJsonl(path.join(dir, 'logs', 'events.jsonl')).filter((e) => e.type === 'guardrail_tripped');

test('an alert on one rule never silences another: after a decision_rate_ratio alert, a challenger answering 100 % 500s still trips error_rate (action: alert)', async (t) => {
  const m = await decisionGapModels(t);
  const dir = tempDir();
  const p = await startProxy(testConfig(m.champion, m.challenger, path.join(dir, 'logs'), {
    traffic: { challenger: 0.5 },
    guardrails: { window: 40, minSamples: 20, maxErrorRate: 0.05, maxDecisionRateRatio: 2, action: 'alert' },
  }));
  startGuardrails(p.runtime);
  t.after(() => p.shutdown());
  await drive(p, 0, 24);
  assert.deepEqual(trips(dir).map((e) => [e.rule, e.action]), [['decision_rate_ratio', 'alert']]);

  m.fail();
  await drive(p, 24, 10);
  await p.shutdown();
  const events = trips(dir);
  assert.deepEqual(events.map((e) => [e.rule, e.action, e.limit]), [['decision_rate_ratio', 'alert', 2], ['error_rate', 'alert', 0.05]]);
  // 24 good records, then 500s: 2 errors in 26 is the first rate above 0.05.
  assert.equal(events[1]!.value, 2 / 26);
});

test('guardrails.actions: the decision rule only alerts, error_rate rolls back (per-rule actions over `action`)', async (t) => {
  const m = await decisionGapModels(t);
  const dir = tempDir();
  const p = await startProxy(testConfig(m.champion, m.challenger, path.join(dir, 'logs'), {
    traffic: { challenger: 0.5 },
    guardrails: { window: 40, minSamples: 20, maxErrorRate: 0.05, maxDecisionRateRatio: 2, action: 'rollback', actions: { decision_rate_ratio: 'alert' } },
  }));
  startGuardrails(p.runtime);
  t.after(() => p.shutdown());
  await drive(p, 0, 24);
  assert.equal(p.runtime.snapshot.config.traffic.challenger, 0.5, 'an alert moves no traffic');
  m.fail();
  await drive(p, 24, 10);
  assert.equal(p.runtime.snapshot.config.traffic.challenger, 0, 'the rollback rule rolled back');
  await p.shutdown();
  const events = readJsonl(path.join(dir, 'logs', 'events.jsonl')).filter((e) => e.type !== 'start' && e.type !== 'shutdown');
  assert.deepEqual(events.map((e) => [e.type, e.rule ?? e.source, e.action, e.traffic.challenger]), [
    ['guardrail_tripped', 'decision_rate_ratio', 'alert', 0.5],
    ['guardrail_tripped', 'error_rate', 'rollback', 0.5],
    ['rollback', 'guardrail', undefined, 0],
  ]);
});

/** A Runtime on real record files with its guardrails and ramp, fake timers at T0 (harness.ts). */
const runtime = (t: TestContext, extra: Record<string, unknown>) => guardedRuntime(t, extra, T0);

const T0 = 1_800_000_000_000;
const EVERY = 60_000;

test('an alert rule trips again only after a full window back within its limit, never while it stays breached', async (t) => {
  const { rt, events } = await runtime(t, { guardrails: { window: 20, minSamples: 10, maxErrorRate: 0.5, action: 'alert' } });
  const bad = () => rt.recorder.write(pair({}, { error: 'status' }));
  const good = () => rt.recorder.write(pair({}, {}));
  for (let i = 0; i < 10; i++) bad();
  assert.equal(events().length, 1, 'tripped at minSamples');
  for (let i = 0; i < 30; i++) bad();
  assert.equal(events().length, 1, 'no second event while it stays breached');
  // k good records after 20 bad ones: within the limit (rate <= 0.5) from the 10th on; the 20th
  // record in a row within it (k = 29) re-arms the rule.
  for (let k = 1; k <= 29; k++) good();
  assert.equal(events().length, 1);
  // The window now holds 20 good records: the 11th bad one in a row breaches again.
  for (let f = 1; f <= 10; f++) bad();
  assert.equal(events().length, 1);
  bad();
  assert.deepEqual(events().map((e) => [e.type, e.rule, e.action, e.value]), [
    ['guardrail_tripped', 'error_rate', 'alert', 1],
    ['guardrail_tripped', 'error_rate', 'alert', 11 / 20],
  ]);
});

test('an alert rule that breaches again before a full window within its limit stays quiet', () => {
  // RuleWatch over a window whose figure the test sets: only the sequence of values matters here.
  let value: number | null = 0;
  const window = { size: 100, minSamples: 10, errorRate: () => value } as unknown as GuardrailWindow;
  const watch = new RuleWatch(RULES[0]!, 0.5, 'alert', 5);
  const feed = (...values: Array<number | null>) => values.map((v) => ((value = v), watch.check(window) === null ? '.' : 'T')).join('');
  assert.equal(feed(0.1, 0.9, 0.9), '.T.');
  // 4 within, a breach (the count restarts), undefined figures (neither), 5 within: re-armed.
  assert.equal(feed(0.1, 0.1, 0.1, 0.1, 0.9, null, null, 0.1, 0.1, 0.1, 0.1), '...........');
  assert.equal(watch.tripped, true);
  assert.equal(feed(0.1, 0.9), '.T');
  // A rollback rule trips once: nothing re-arms it before the next config load.
  const rollback = new RuleWatch(RULES[0]!, 0.5, 'rollback', 1);
  value = 0.9;
  assert.notEqual(rollback.check(window), null);
  for (const v of [0.1, 0.1, 0.1, 0.9]) {
    value = v;
    assert.equal(rollback.check(window), null);
  }
});

test('after an alert trip the ramp halts, every rule is still judged, and a later rollback rule still rolls back', async (t) => {
  const { rt, events } = await runtime(t, {
    ramp: { steps: [0.1, 0.2, 0.3], every: EVERY },
    guardrails: { window: 20, minSamples: 10, maxErrorRate: 0.2, maxLatencyP99Ratio: 3, actions: { latency_p99_ratio: 'alert' } },
  });
  t.mock.timers.tick(EVERY);
  assert.equal(rt.snapshot.config.traffic.challenger, 0.1);
  // The challenger five times slower than the champion: the latency rule alerts.
  for (let i = 0; i < 10; i++) rt.recorder.write(pair({ latencyMs: 10 }, { latencyMs: 50 }));
  assert.deepEqual(rt.guardrail, { tripped: true, rule: 'latency_p99_ratio' });
  t.mock.timers.tick(EVERY);
  t.mock.timers.tick(EVERY);
  assert.equal(rt.snapshot.config.traffic.challenger, 0.1, 'the ramp halted at the alert');
  // Then it fails: error_rate is still judged and rolls back (2 errors in 12 is within 0.2, 3 in 13 is not).
  for (let i = 0; i < 3; i++) rt.recorder.write(pair({ latencyMs: 10 }, { error: 'status', latencyMs: 50 }));
  assert.equal(rt.snapshot.config.traffic.challenger, 0);
  assert.deepEqual(rt.guardrail, { tripped: true, rule: 'error_rate' });
  t.mock.timers.tick(EVERY);
  assert.deepEqual(events().map((e) => [e.type, e.rule ?? e.source ?? e.to, e.action, e.traffic.challenger]), [
    ['ramp_step', 0.1, undefined, 0.1],
    ['guardrail_tripped', 'latency_p99_ratio', 'alert', 0.1],
    ['guardrail_tripped', 'error_rate', 'rollback', 0.1],
    ['rollback', 'guardrail', undefined, 0],
  ]);
});
