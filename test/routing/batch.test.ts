import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { startUpstream, type Behaviour, type Upstream } from '../helpers/upstream.js';
import { startProxy, tempDir, testConfig } from '../helpers/proxy.js';

/** Each instance's score is its first feature times `k` (so the two models differ, and decisions split at 0.5). */
function rowScores(rows: unknown[], k: number): number[] {
  return rows.map((r) => {
    const x = Array.isArray(r) ? r[0] : typeof r === 'object' && r !== null ? Object.values(r)[0] : r;
    return Math.round(Number(x) * k * 1000) / 1000;
  });
}

/** A model server speaking one protocol; `drop` answers that many scores fewer than asked. */
function model(protocol: 'kserve' | 'tfserving' | 'mlflow' | 'rank', k: number, drop = 0): Behaviour {
  return (req, res) => {
    const j = JSON.parse(req.body.toString('utf8'));
    let body: unknown;
    if (protocol === 'kserve') {
      const input = j.inputs[0];
      const [n, width] = input.shape as [number, number];
      const rows = Array.from({ length: n }, (_, i) => input.data.slice(i * width, (i + 1) * width));
      const scores = rowScores(rows, k).slice(0, n - drop);
      body = { model_name: 'm', outputs: [{ name: 'probabilities', shape: [scores.length, 2], datatype: 'FP32', data: scores.flatMap((s) => [1 - s, s]) }] };
    } else if (protocol === 'rank') {
      body = { scores: rowScores(j.candidates, k).slice(0, j.candidates.length - drop) };
    } else {
      const rows = j.instances ?? j.inputs ?? j.dataframe_records ?? j.dataframe_split.data;
      body = { predictions: rowScores(rows, k).slice(0, rows.length - drop).map((s) => [1 - s, s]) };
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
}

async function models(t: { after(fn: () => Promise<void>): void }, a: Behaviour, b: Behaviour): Promise<[Upstream, Upstream]> {
  const champion = await startUpstream(a);
  const challenger = await startUpstream(b);
  t.after(() => champion.close());
  t.after(() => challenger.close());
  return [champion, challenger];
}

async function post(url: string, path: string, body: unknown, id: string) {
  const res = await request(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': 'u-1', 'x-request-id': id },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, group: res.headers['x-ccrouter-group'], text: await res.body.text() };
}

const ROUTES = [
  { path: '/v2/models/fraud/infer', preset: 'kserve-v2' },
  { path: '/v1/models/fraud:predict', preset: 'tfserving' },
  { path: '/invocations', preset: 'mlflow' },
  { path: '/rank', instances: '/candidates', score: '/scores' },
];

test('a KServe v2 batch of 3 is scored per instance, not recorded as the third instance\'s score', async (t) => {
  const [ch, cl] = await models(t, model('kserve', 1), model('kserve', 0.5));
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { routes: ROUTES }));
  const features = [0.9, 1, 0.2, 1, 0.6, 1];
  const r = await post(p.url, '/v2/models/fraud/infer', { inputs: [{ name: 'x', shape: [3, 2], datatype: 'FP32', data: features }] }, 'k-3');
  assert.equal(r.status, 200);
  const [rec] = await p.stopAndRead();
  assert.equal(rec!.instances, 3);
  assert.deepEqual(rec!.champion.scores, [0.9, 0.2, 0.6]);
  assert.deepEqual(rec!.champion.decisions, [true, false, true]);
  assert.equal(rec!.champion.score, null);
  assert.equal(rec!.champion.decision, null);
  assert.deepEqual(rec!.challenger.scores, [0.45, 0.1, 0.3]);
  assert.deepEqual(rec!.challenger.decisions, [false, false, false]);
  assert.equal(rec!.agree, 1 / 3, 'the share of instances whose decisions are equal');
  assert.equal(rec!.champion.error, null);
  assert.equal(typeof rec!.champion.latencyMs, 'number', 'latency stays per call');
});

test('tfserving, mlflow (every request form) and a pointer route: one record per request, scores in instance order', async (t) => {
  const rank = model('rank', 1);
  const tf = model('tfserving', 1);
  const router: Behaviour = (req, res) => (req.url === '/rank' ? rank(req, res) : tf(req, res));
  const rank2 = model('rank', 0.5);
  const tf2 = model('tfserving', 0.5);
  const router2: Behaviour = (req, res) => (req.url === '/rank' ? rank2(req, res) : tf2(req, res));
  const [ch, cl] = await models(t, router, router2);
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { routes: ROUTES }));
  const sent: Array<[string, unknown]> = [
    ['/v1/models/fraud:predict', { instances: [[0.7], [0.1]] }],
    ['/v1/models/fraud:predict', { inputs: [[0.7], [0.1]] }],
    ['/invocations', { dataframe_split: { columns: ['a'], data: [[0.7], [0.1]] } }],
    ['/invocations', { dataframe_records: [{ a: 0.7 }, { a: 0.1 }] }],
    ['/invocations', { instances: [[0.7], [0.1]] }],
    ['/rank', { candidates: [[0.7], [0.1]] }],
  ];
  for (const [i, [path, body]] of sent.entries()) assert.equal((await post(p.url, path, body, `r-${i}`)).status, 200, path);
  const records = await p.stopAndRead();
  assert.equal(records.length, sent.length);
  for (const rec of records) {
    assert.equal(rec.instances, 2, rec.route);
    assert.deepEqual(rec.champion.scores, [0.7, 0.1], rec.route);
    assert.deepEqual(rec.challenger.scores, [0.35, 0.05], rec.route);
    assert.deepEqual(rec.champion.decisions, [true, false], rec.route);
    assert.equal(rec.agree, 0.5, rec.route);
  }
});

test('a single-instance batch request is recorded exactly as a single-score request (no instances, no arrays)', async (t) => {
  const [ch, cl] = await models(t, model('kserve', 1), model('kserve', 0.5));
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { routes: ROUTES }));
  await post(p.url, '/v2/models/fraud/infer', { inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [0.8, 1] }] }, 'one');
  const [rec] = await p.stopAndRead();
  assert.equal('instances' in rec!, false);
  assert.deepEqual(rec!.champion, { version: 'v-champ', status: 200, latencyMs: rec!.champion.latencyMs, score: 0.8, decision: true, error: null });
  assert.deepEqual(rec!.challenger, { version: 'v-chall', status: 200, latencyMs: rec!.challenger.latencyMs, score: 0.4, decision: false, error: null });
  assert.equal(rec!.agree, false);
});

test('bad batches: instances not an array, an empty batch, fewer scores than instances: answered, recorded as kind parse', async (t) => {
  // Whatever the request, a model answers: its answer is the caller's, and its outcome is recorded.
  const tolerant = (b: Behaviour): Behaviour => (req, res) => {
    let j: any;
    try {
      j = JSON.parse(req.body.toString('utf8'));
    } catch {
      j = null;
    }
    if (Array.isArray(j?.candidates)) return b(req, res);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"scores":[0.5]}');
  };
  const [ch, cl] = await models(t, tolerant(model('rank', 1)), tolerant(model('rank', 1, 1)));
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { routes: ROUTES }));
  const a = await post(p.url, '/rank', { candidates: { a: 1 } }, 'not-array');
  const b = await post(p.url, '/rank', { candidates: [] }, 'empty');
  const c = await post(p.url, '/rank', { candidates: [[0.7], [0.2], [0.9]] }, 'fewer');
  const d = await post(p.url, '/rank', 'not json', 'not-json');
  for (const r of [a, b, c]) assert.equal(r.status, 200, 'the caller gets the served model\'s answer');
  assert.equal(d.status, 200);
  const records = new Map((await p.stopAndRead()).map((r) => [r.requestId, r]));
  assert.equal(records.size, 4, 'one record per request');
  const notArray = records.get('not-array')!;
  for (const role of ['champion', 'challenger']) {
    assert.deepEqual(notArray[role].error, { kind: 'parse', message: "value at /candidates in the request is not an array (the route's instances)" }, role);
    assert.equal(notArray[role].status, 200);
  }
  assert.equal('instances' in notArray, false);
  assert.deepEqual(records.get('empty')!.champion.error, { kind: 'parse', message: 'empty batch: the array at /candidates in the request has no instances' });
  assert.deepEqual(records.get('not-json')!.challenger.error, { kind: 'parse', message: "request body is not JSON (the route's instances pointer /candidates reads it)" });
  const fewer = records.get('fewer')!;
  assert.equal(fewer.instances, 3);
  assert.deepEqual(fewer.champion.scores, [0.7, 0.2, 0.9]);
  assert.deepEqual(fewer.challenger.error, { kind: 'parse', message: 'answer has 2 scores at /scores for 3 instances' });
  assert.equal(fewer.challenger.scores, null);
  assert.equal(fewer.challenger.decisions, null);
  assert.equal(fewer.agree, null);
});

test('a challenger-served batch whose challenger answers fewer scores falls back to the champion like any parse failure', async (t) => {
  const [ch, cl] = await models(t, model('rank', 1), model('rank', 1, 1));
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { routes: ROUTES, traffic: { challenger: 1 } }));
  const r = await post(p.url, '/rank', { candidates: [[0.7], [0.2]] }, 'fb');
  assert.equal(r.group, 'challenger');
  assert.deepEqual(JSON.parse(r.text), { scores: [0.7, 0.2] }, 'the champion\'s answer');
  const [rec] = await p.stopAndRead();
  assert.equal(rec!.fallback, true);
  assert.equal(rec!.challenger.error.kind, 'parse');
});

test('a batch with the shadow call off: the skipped model has null scores and decisions, like its score', async (t) => {
  const [ch, cl] = await models(t, model('rank', 1), model('rank', 0.5));
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { routes: ROUTES, traffic: { shadow: false } }));
  await post(p.url, '/rank', { candidates: [[0.7], [0.2]] }, 'no-shadow');
  const [rec] = await p.stopAndRead();
  assert.equal(rec!.instances, 2);
  assert.deepEqual(rec!.champion.scores, [0.7, 0.2]);
  assert.equal(rec!.challenger.error.kind, 'skipped');
  assert.equal(rec!.challenger.scores, null);
  assert.equal(rec!.challenger.decisions, null);
  assert.equal(rec!.agree, null);
});

test('metrics count a batch per instance: scores, decisions and agreement', async (t) => {
  const [ch, cl] = await models(t, model('rank', 1), model('rank', 0.5));
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { routes: ROUTES }));
  await post(p.url, '/rank', { candidates: [[0.7], [0.2], [0.9]] }, 'm-1');
  let text = '';
  const value = (name: string) => Number(text.split('\n').find((l) => l.startsWith(name + ' '))?.split(' ')[1] ?? 0);
  // The record (and so its metrics) is written once the shadow call is known too.
  for (let i = 0; i < 200; i++) {
    text = await (await request(p.adminUrl + '/metrics')).body.text();
    if (value('ccrouter_agreement_total{agree="true"}') + value('ccrouter_agreement_total{agree="false"}') > 0) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(value('ccrouter_decisions_total{model="champion",decision="true"}'), 2);
  assert.equal(value('ccrouter_decisions_total{model="champion",decision="false"}'), 1);
  assert.equal(value('ccrouter_score_count{model="challenger"}'), 3);
  // Champion [true, false, true], challenger [false, false, false]: one instance agrees.
  assert.equal(value('ccrouter_agreement_total{agree="true"}'), 1);
  assert.equal(value('ccrouter_agreement_total{agree="false"}'), 2);
  await p.shutdown();
});

test('a batch with calibration: normalized per instance, decisions on it, the served model\'s array injected', async (t) => {
  const [ch, cl] = await models(t, model('rank', 1), model('rank', 0.5));
  const dir = tempDir();
  const file = path.join(dir, 'calibration.json');
  // v-champ: raw 0 → 0, raw 1 → 0.5 (halves); v-chall: raw 0 → 0.5, raw 1 → 1.
  fs.writeFileSync(file, JSON.stringify({ metric: 'precision', models: { 'v-champ': [[0, 0], [1, 0.5]], 'v-chall': [[0, 0.5], [1, 1]] } }));
  const p = await startProxy(testConfig(ch.url, cl.url, dir, { routes: ROUTES, calibration: { file, inject: '/normalized' } }));
  const r = await post(p.url, '/rank', { candidates: [[0.8], [0.2]] }, 'cal');
  assert.deepEqual(JSON.parse(r.text), { scores: [0.8, 0.2], normalized: [0.4, 0.1] });
  const [rec] = await p.stopAndRead();
  assert.deepEqual(rec!.champion.normalized, [0.4, 0.1]);
  assert.deepEqual(rec!.champion.decisions, [false, false]);
  assert.deepEqual(rec!.challenger.normalized, [0.7, 0.55]);
  assert.deepEqual(rec!.challenger.decisions, [true, true]);
  assert.equal(rec!.agree, 0);
});

test('a preset request that names no batch (not JSON, no batch field) is read as one score, as before', async (t) => {
  const answer: Behaviour = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"predictions":[[0.2,0.8]]}');
  };
  const [ch, cl] = await models(t, answer, answer);
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { routes: ROUTES }));
  await post(p.url, '/v1/models/fraud:predict', { signature_name: 'serving_default' }, 'no-field');
  await post(p.url, '/v1/models/fraud:predict', 'binary tensor', 'not-json');
  const records = await p.stopAndRead();
  assert.equal(records.length, 2);
  for (const rec of records) {
    assert.equal('instances' in rec, false, rec.requestId);
    assert.equal(rec.champion.score, 0.8, rec.requestId);
    assert.equal(rec.challenger.decision, true, rec.requestId);
    assert.equal(rec.agree, true, rec.requestId);
  }
});
