import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { request } from 'undici';
import { loadConfigObject } from '../../src/config/load.js';
import { startGuardrails } from '../../src/guardrails/start.js';
import { GuardrailWindow } from '../../src/guardrails/window.js';
import { readJsonl, startProxy, tempDir, testConfig, type TestProxy } from '../helpers/proxy.js';
import { scoreBehaviour, startUpstream, type Behaviour, type Upstream } from '../helpers/upstream.js';
import { pair } from './records.js';

type T = { after(fn: () => unknown): void };

async function upstreams(t: T, a: Behaviour, b: Behaviour): Promise<[Upstream, Upstream]> {
  const champion = await startUpstream(a);
  const challenger = await startUpstream(b);
  t.after(() => champion.close());
  t.after(() => challenger.close());
  return [champion, challenger];
}

/** A proxy with its guardrails and ramp started; shut down after the test. */
async function proxy(t: T, raw: Record<string, unknown>): Promise<TestProxy> {
  const p = await startProxy(raw);
  startGuardrails(p.runtime);
  t.after(() => p.shutdown());
  return p;
}

async function post(p: TestProxy, i: number, body: unknown = {}, requestId?: string): Promise<number> {
  const res = await request(p.url + '/predict', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': `u-${i}`, ...(requestId ? { 'x-request-id': requestId } : {}) },
    body: JSON.stringify(body),
  });
  await res.body.dump();
  return res.statusCode;
}

/** Send requests i = from .. from+n-1, `concurrency` at a time; resolves once their records are written. */
async function drive(p: TestProxy, from: number, n: number, opts: { concurrency?: number; body?: (i: number) => unknown; id?: (i: number) => string } = {}): Promise<void> {
  let next = from;
  const worker = async () => {
    while (next < from + n) {
      const i = next++;
      await post(p, i, opts.body?.(i) ?? {}, opts.id?.(i));
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 1 }, worker));
  await settle(p);
}

/** Wait until every answered request's pair record is written (shadow calls finished). */
async function settle(p: TestProxy): Promise<void> {
  for (let i = 0; i < 2000 && p.runtime.pendingRecords > 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(p.runtime.pendingRecords, 0, 'records still pending after 10 s');
}

async function admin(p: TestProxy, url: string): Promise<any> {
  const res = await request(p.adminUrl! + url);
  return url === '/metrics' ? res.body.text() : res.body.json();
}

/** Generous model timeouts: a stall of a loaded test machine must not turn into a timeout error. */
function models(champion: Upstream, challenger: Upstream) {
  return {
    champion: { url: champion.url, version: 'v-champ', timeoutMs: 10_000 },
    challenger: { url: challenger.url, version: 'v-chall', timeoutMs: 10_000 },
  };
}

const fail500: Behaviour = (_req, res) => {
  res.writeHead(500, { 'content-type': 'application/json' });
  res.end('{"error":"boom"}');
};

test('a failing challenger trips error_rate: event, rollback, /status, later records without a challenger group', async (t) => {
  const [ch, cl] = await upstreams(t, scoreBehaviour(0.8), scoreBehaviour(0.3));
  const dir = tempDir();
  const p = await proxy(t, testConfig(ch.url, cl.url, dir, {
    models: models(ch, cl),
    traffic: { challenger: 0.5 },
    guardrails: { window: 100, minSamples: 50, maxErrorRate: 0.1 },
  }));
  const startId = p.runtime.snapshot.id;
  await drive(p, 0, 60);
  assert.equal(p.runtime.guardrail.tripped, false);

  cl.behave(fail500);
  await drive(p, 60, 20);
  const status = await admin(p, '/status');
  assert.equal(status.traffic.challenger, 0);
  assert.deepEqual(status.guardrails, { tripped: true, rule: 'error_rate' });
  assert.notEqual(status.config, startId, 'the rollback yields a new effective config id');
  const metrics = await admin(p, '/metrics');
  assert.match(metrics, /ccrouter_guardrail_trips_total\{rule="error_rate"\} 1\n/);

  await drive(p, 80, 30, { id: (i) => `after-${i}` });
  const pairs = await p.stopAndRead();
  const events = readJsonl(path.join(dir, 'events.jsonl'));
  const tripped = events.filter((e) => e.type === 'guardrail_tripped');
  assert.equal(tripped.length, 1);
  // 60 healthy records, then failures: 7 / 67 is the first rate above 0.1.
  assert.deepEqual({ rule: tripped[0]!.rule, value: tripped[0]!.value, limit: tripped[0]!.limit }, { rule: 'error_rate', value: 7 / 67, limit: 0.1 });
  assert.equal(tripped[0]!.config, startId);
  const rollback = events[events.indexOf(tripped[0]!) + 1]!;
  assert.equal(rollback.type, 'rollback');
  assert.equal(rollback.source, 'guardrail');
  assert.equal(rollback.config, status.config);
  assert.deepEqual(rollback.traffic, { control: 0, challenger: 0 });

  const after = pairs.filter((r) => String(r.requestId).startsWith('after-'));
  assert.equal(after.length, 30);
  for (const r of after) {
    assert.equal(r.config, status.config);
    assert.notEqual(r.group, 'challenger');
    assert.equal(r.served, 'champion');
  }
  assert.ok(pairs.some((r) => r.group === 'challenger'), 'the challenger served before the trip');
});

test('a challenger slowing down trips latency_p99_ratio', async (t) => {
  const [ch, cl] = await upstreams(t, scoreBehaviour(0.8, 10), scoreBehaviour(0.3, 10));
  const dir = tempDir();
  const p = await proxy(t, testConfig(ch.url, cl.url, dir, {
    models: models(ch, cl),
    traffic: { challenger: 0.2 },
    guardrails: { window: 40, minSamples: 20, maxLatencyP99Ratio: 2 },
  }));
  await drive(p, 0, 15, { concurrency: 3 });
  assert.equal(p.runtime.guardrail.tripped, false, 'below minSamples: nothing judged yet');
  cl.behave(scoreBehaviour(0.3, 300));
  // A scheduling stall of the test machine lengthens the champion's calls too and can hold the
  // ratio down until that record leaves the window: keep the slow challenger answering until then.
  let i = 15;
  while (!p.runtime.guardrail.tripped && i < 215) {
    await drive(p, i, 4, { concurrency: 4 });
    i += 4;
  }
  assert.deepEqual({ ...p.runtime.guardrail }, { tripped: true, rule: 'latency_p99_ratio' });
  await p.shutdown();
  const events = readJsonl(path.join(dir, 'events.jsonl'));
  const tripped = events.find((e) => e.type === 'guardrail_tripped')!;
  assert.equal(tripped.rule, 'latency_p99_ratio');
  assert.equal(tripped.limit, 2);
  assert.ok(tripped.value > 2);
  assert.ok(events.some((e) => e.type === 'rollback' && e.source === 'guardrail'));
});

test('a healthy challenger does not trip any rule over 400 requests (every rule evaluated)', async (t) => {
  const [ch, cl] = await upstreams(t, scoreBehaviour(0.5, 20), scoreBehaviour(0.5, 20));
  const dir = tempDir();
  // The SPEC example's limits, but latency: the test machine's scheduling stalls land on either call.
  const guardrails = { window: 200, minSamples: 100, maxErrorRate: 0.02, maxLatencyP99Ratio: 3, maxDecisionRateRatio: 2, maxScorePsi: 0.25 };
  const p = await proxy(t, testConfig(ch.url, cl.url, dir, { models: models(ch, cl), traffic: { control: 0.1, challenger: 0.3 }, guardrails }));
  // A second window fed the same records shows what the rules saw.
  const seen = new GuardrailWindow({ window: guardrails.window, minSamples: guardrails.minSamples });
  p.runtime.recorder.onPair((r) => void seen.observe(r));
  // Scores cycle over 100 values: every 200 consecutive records hold each twice.
  await drive(p, 0, 400, { concurrency: 8, body: (i) => ({ score: (((i * 37) % 100) + 0.5) / 100 }) });
  assert.equal(seen.size, 200);
  assert.equal(seen.errorRate(), 0);
  assert.ok(seen.latencyP99Ratio()! > 0 && seen.latencyP99Ratio()! < 3, `p99 ratio ${seen.latencyP99Ratio()}`);
  assert.equal(seen.decisionRateRatio(), 1);
  assert.ok(seen.scorePsi()! < 0.25, `psi ${seen.scorePsi()}`);
  const status = await admin(p, '/status');
  assert.deepEqual(status.guardrails, { tripped: false, rule: null });
  assert.equal(status.traffic.challenger, 0.3);
  await p.shutdown();
  const events = readJsonl(path.join(dir, 'events.jsonl'));
  assert.deepEqual(events.map((e) => e.type), ['start', 'shutdown']);
});

test('action: alert writes guardrail_tripped but keeps the challenger serving', async (t) => {
  const [ch, cl] = await upstreams(t, scoreBehaviour(0.8), fail500);
  const dir = tempDir();
  const p = await proxy(t, testConfig(ch.url, cl.url, dir, {
    traffic: { challenger: 0.5 },
    guardrails: { window: 50, minSamples: 20, maxErrorRate: 0.02, action: 'alert' },
  }));
  await drive(p, 0, 30, { id: (i) => `req-${i}` });
  const status = await admin(p, '/status');
  assert.deepEqual(status.guardrails, { tripped: true, rule: 'error_rate' });
  assert.equal(status.traffic.challenger, 0.5);
  await drive(p, 30, 30, { id: (i) => `after-${i}` });
  const pairs = await p.stopAndRead();
  const events = readJsonl(path.join(dir, 'events.jsonl'));
  assert.deepEqual(events.map((e) => e.type), ['start', 'guardrail_tripped', 'shutdown']);
  assert.deepEqual({ ...events[1], time: 0 }, { level: 30, time: 0, msg: 'event', type: 'guardrail_tripped', config: status.config, traffic: { control: 0, challenger: 0.5 }, rule: 'error_rate', value: 1, limit: 0.02, action: 'alert' });
  assert.ok(pairs.some((r) => String(r.requestId).startsWith('after-') && r.group === 'challenger'), 'no rollback: the challenger group still exists');
});

test('trips once per config load; a config load restarts the window', async (t) => {
  const dir = tempDir();
  const raw = testConfig('http://127.0.0.1:9', 'http://127.0.0.1:9', dir, {
    traffic: { challenger: 0.1 },
    guardrails: { window: 20, minSamples: 10, maxErrorRate: 0.5, action: 'alert' },
  });
  const p = await proxy(t, raw);
  const rt = p.runtime;
  const failing = () => rt.recorder.write(pair({}, { error: 'timeout' }));
  // Read through a function: assertions narrow a property's type, and the state changes under them.
  const guardrail = () => ({ ...rt.guardrail });
  for (let i = 0; i < 9; i++) failing();
  assert.equal(guardrail().tripped, false, 'below minSamples');
  failing();
  assert.deepEqual(guardrail(), { tripped: true, rule: 'error_rate' });
  for (let i = 0; i < 30; i++) failing();

  rt.loadFileConfig(loadConfigObject({ ...raw, traffic: { challenger: 0.2 } }));
  rt.event('config_loaded', { restartRequired: [] });
  assert.deepEqual(guardrail(), { tripped: false, rule: null });
  for (let i = 0; i < 9; i++) failing();
  assert.equal(guardrail().tripped, false, 'the window restarted empty');
  failing();
  assert.equal(guardrail().tripped, true);
  const metrics = await admin(p, '/metrics');
  assert.match(metrics, /ccrouter_guardrail_trips_total\{rule="error_rate"\} 2\n/);
  await p.shutdown();
  const events = readJsonl(path.join(dir, 'events.jsonl'));
  assert.deepEqual(events.map((e) => e.type), ['start', 'guardrail_tripped', 'config_loaded', 'guardrail_tripped', 'shutdown']);
  assert.notEqual(events[3]!.config, events[1]!.config);
  assert.equal(events[3]!.config, events[2]!.config);
});

test('score_psi trips when the challenger drifts from its own first scores, not from the champion', async (t) => {
  const dir = tempDir();
  const p = await proxy(t, testConfig('http://127.0.0.1:9', 'http://127.0.0.1:9', dir, {
    guardrails: { window: 100, minSamples: 50, maxScorePsi: 0.25, maxDecisionRateRatio: 100 },
  }));
  const rt = p.runtime;
  const s = (i: number) => ((i * 37) % 100) / 100 + 0.005;
  // The champion scores far away from the challenger all along: not a drift.
  for (let i = 0; i < 300; i++) rt.recorder.write(pair({ score: 0.99 }, { score: s(i) }));
  assert.equal(rt.guardrail.tripped, false);
  // Then the challenger's scores pile up at the top.
  let n = 0;
  while (!rt.guardrail.tripped && n < 100) rt.recorder.write(pair({ score: 0.99 }, { score: 0.999 - (n++ % 5) / 1000 }));
  assert.deepEqual(rt.guardrail, { tripped: true, rule: 'score_psi' });
  await p.shutdown();
  const tripped = readJsonl(path.join(dir, 'events.jsonl')).find((e) => e.type === 'guardrail_tripped')!;
  assert.equal(tripped.limit, 0.25);
  assert.ok(tripped.value > 0.25);
});

test('no guardrails section, or one without limits: nothing is checked', async (t) => {
  for (const guardrails of [undefined, {}]) {
    const dir = tempDir();
    const p = await proxy(t, testConfig('http://127.0.0.1:9', 'http://127.0.0.1:9', dir, guardrails ? { guardrails } : {}));
    for (let i = 0; i < 300; i++) p.runtime.recorder.write(pair({}, { error: 'status' }));
    assert.equal(p.runtime.guardrail.tripped, false);
  }
});

test('the stop function detaches: later records are not checked', async (t) => {
  const dir = tempDir();
  const p = await startProxy(testConfig('http://127.0.0.1:9', 'http://127.0.0.1:9', dir, { guardrails: { window: 10, minSamples: 5, maxErrorRate: 0 } }));
  t.after(() => p.shutdown());
  const stop = startGuardrails(p.runtime);
  assert.equal(startGuardrails(p.runtime), stop, 'started once per runtime');
  stop();
  for (let i = 0; i < 20; i++) p.runtime.recorder.write(pair({}, { error: 'status' }));
  assert.equal(p.runtime.guardrail.tripped, false);
});
