import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelClient, type CallResult } from '../../src/upstream/model-client.js';
import { startUpstream, scoreBehaviour, closedPort } from '../helpers/upstream.js';

const REQ = { method: 'POST', url: '/predict', headers: ['content-type', 'application/json'], body: Buffer.from('{"a":1}') };

function client(url: string, timeoutMs: number, connections?: number): ModelClient {
  return new ModelClient({ url, version: 'v', timeoutMs }, connections === undefined ? {} : { connections });
}

test('an answer: status, raw headers, body, latency', async (t) => {
  const up = await startUpstream(scoreBehaviour(0.25));
  t.after(() => up.close());
  const c = client(up.url + '/base', 1000);
  t.after(() => c.destroy());
  const r = await c.request(REQ);
  assert.equal(r.ok, true);
  if (!r.ok) return;
  assert.equal(r.status, 200);
  assert.equal(r.contentEncoding, undefined);
  const raw = r.rawHeaders!.map((b) => b.toString('latin1'));
  assert.equal(raw[raw.findIndex((n) => n.toLowerCase() === 'x-model') + 1], 'yes');
  assert.deepEqual(JSON.parse(r.body.toString()), { score: 0.25 });
  assert.ok(r.latencyMs >= 0);
  assert.equal(up.received[0]!.url, '/base/predict');
  assert.equal(c.inflight, 0);
});

test('one timer for every call: each times out at its own deadline, in start order, and later calls still succeed', async (t) => {
  const up = await startUpstream(() => undefined); // never answers
  t.after(() => up.close());
  const c = client(up.url, 150);
  t.after(() => c.destroy());
  const settled: Array<{ i: number; r: CallResult }> = [];
  const first = c.request(REQ).then((r) => settled.push({ i: 0, r }));
  await new Promise((r) => setTimeout(r, 60));
  const second = c.request(REQ).then((r) => settled.push({ i: 1, r }));
  assert.equal(c.inflight, 2);
  await Promise.all([first, second]);
  assert.deepEqual(settled.map((s) => s.i), [0, 1]);
  for (const { r } of settled) {
    assert.equal(r.ok, false);
    if (r.ok) continue;
    assert.equal(r.kind, 'timeout');
    assert.match(r.message, /within 150 ms/);
    assert.ok(r.latencyMs >= 149, `timed out before its deadline: ${r.latencyMs} ms`);
  }
  assert.equal(c.inflight, 0);
  up.behave(scoreBehaviour(0.5));
  const ok = await c.request(REQ);
  assert.equal(ok.ok, true);
});

test('a call still queued in the pool can be canceled: it settles at once and never reaches the model', async (t) => {
  let release: () => void = () => undefined;
  const up = await startUpstream((_req, res) => {
    release = () => res.end('{"score":1}');
  });
  t.after(() => up.close());
  const c = client(up.url, 2000, 1); // one connection: the second call waits for the first
  t.after(() => c.destroy());
  const first = c.request(REQ);
  while (up.received.length === 0) await new Promise((r) => setTimeout(r, 5));
  let result: CallResult | null = null;
  const call = c.call(REQ, (r) => (result = r));
  assert.equal(result, null, 'never settles before call() returned');
  call.cancel('client went away');
  const canceled = result as CallResult | null;
  assert.ok(canceled !== null && !canceled.ok && canceled.kind === 'canceled' && canceled.message === 'client went away');
  release();
  assert.equal((await first).ok, true);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(up.received.length, 1, 'the canceled call was not sent');
  assert.equal(c.inflight, 0);
});

test('connection refused is a connect failure, delivered after call() returned; cancelAll cancels what runs', async (t) => {
  const c = client(await closedPort(), 1000);
  t.after(() => c.destroy());
  const r = await c.request(REQ);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.kind, 'connect');

  const up = await startUpstream(() => undefined);
  t.after(() => up.close());
  const d = client(up.url, 5000);
  t.after(() => d.destroy());
  const pending = [d.request(REQ), d.request(REQ)];
  while (up.received.length < 2) await new Promise((r) => setTimeout(r, 5));
  d.cancelAll('grace expired');
  for (const p of await Promise.all(pending)) {
    assert.equal(p.ok, false);
    if (!p.ok) assert.deepEqual([p.kind, p.message], ['canceled', 'grace expired']);
  }
  assert.equal(d.inflight, 0);
});
