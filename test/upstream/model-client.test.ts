import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ModelClient, type CallResult } from '../../src/upstream/model-client.js';
import { startUpstream, scoreBehaviour, closedPort } from '../helpers/upstream.js';

const REQ = { method: 'POST', url: '/predict', headers: ['content-type', 'application/json'], body: Buffer.from('{"a":1}') };

function client(url: string, timeoutMs: number, connections?: number): ModelClient {
  return new ModelClient({ url, version: 'v', timeoutMs }, connections === undefined ? {} : { connections });
}

test('an answer: status, headers, body, latency', async (t) => {
  const up = await startUpstream(scoreBehaviour(0.25));
  t.after(() => up.close());
  const c = client(up.url + '/base', 1000);
  t.after(() => c.destroy());
  const r = await c.request(REQ);
  assert.equal(r.ok, true);
  if (!r.ok) return;
  assert.equal(r.status, 200);
  assert.equal(r.contentEncoding, undefined);
  assert.equal(r.headers['x-model'], 'yes');
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

// --- undici's handler API ---

/** What undici 8 demands of a dispatch handler (its assertRequestHandler), and the callbacks it no longer calls. */
const CONTROLLER_API = ['onRequestStart', 'onResponseStart', 'onResponseData', 'onResponseEnd', 'onResponseError'];
const LEGACY_API = ['onConnect', 'onHeaders', 'onData', 'onComplete', 'onError', 'onUpgrade', 'onResponseStarted'];

test('undici 8 rejects legacy handlers: a call is undici\'s dispatch handler on the controller API only', async (t) => {
  const up = await startUpstream(scoreBehaviour(0.25));
  t.after(() => up.close());
  const c = client(up.url, 1000);
  t.after(() => c.destroy());
  let result: CallResult | null = null;
  const handler = c.call(REQ, (r) => (result = r)) as unknown as Record<string, unknown>;
  for (const m of CONTROLLER_API) assert.equal(typeof handler[m], 'function', `${m} missing`);
  for (const m of LEGACY_API) assert.equal(handler[m], undefined, `legacy ${m} still there`);
  while (result === null) await new Promise((r) => setTimeout(r, 5));
  assert.equal((result as CallResult).ok, true);
});

/**
 * A raw TCP "model" answering one request per connection: `answer` gets the socket once a whole
 * request (head and content-length body) arrived. Later requests on it are counted in `reused`, never
 * answered.
 */
async function rawModel(t: { after(fn: () => Promise<void>): void }, answer: (s: net.Socket) => void): Promise<{ url: string; requests: () => number; reused: () => number }> {
  const sockets = new Set<net.Socket>();
  let requests = 0;
  let reused = 0;
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s)).on('error', () => undefined);
    let buf = '';
    let count = 0;
    s.on('data', (d) => {
      buf += d;
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (end < 0 || buf.length < end + 4 + len) return;
        buf = buf.slice(end + 4 + len);
        requests++;
        if (count++ === 0) answer(s);
        else reused++;
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests, reused: () => reused };
}

test('repeated response headers keep every value in order; contentEncoding is the first one', async (t) => {
  const { url } = await rawModel(t, (s) => s.write(
    'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nContent-Encoding: identity\r\nSet-Cookie: b=2\r\nContent-Encoding: gzip\r\n' +
      'Content-Type: application/json\r\nContent-Length: 13\r\n\r\n{"score":0.9}',
  ));
  const c = client(url, 1000);
  t.after(() => c.destroy());
  const r = await c.request(REQ);
  assert.ok(r.ok);
  assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
  assert.equal(r.contentEncoding, 'identity');
  assert.equal(r.body.toString(), '{"score":0.9}');
});

test('a status outside 100-599 is a broken answer (connect) coded CCR_ERR_BAD_STATUS, and the connection is not reused', async (t) => {
  let status = '600';
  const model = await rawModel(t, (s) => s.write(`HTTP/1.1 ${status} Odd\r\nContent-Length: 13\r\n\r\n{"score":0.9}`));
  const c = client(model.url, 1000);
  t.after(() => c.destroy());
  for (const s of ['600', '099', '999']) {
    status = s;
    await new Promise((r) => setTimeout(r, 20)); // time for the pool to offer a kept-alive connection again
    const r = await c.request(REQ);
    assert.ok(!r.ok, `status ${s} accepted`);
    assert.equal(r.kind, 'connect');
    assert.match(r.message, new RegExp(`^CCR_ERR_BAD_STATUS: model answered status ${Number(s)}, outside 100-599$`));
  }
  status = '200';
  await new Promise((r) => setTimeout(r, 20));
  const ok = await c.request(REQ);
  assert.ok(ok.ok && ok.status === 200, JSON.stringify(ok));
  assert.equal(model.requests(), 4);
  assert.equal(model.reused(), 0);
  assert.equal(c.inflight, 0);
});

test('cancel mid-body aborts through undici: canceled once, the stalled connection dropped, the next call answered', async (t) => {
  let stall = true;
  const model = await rawModel(t, (s) => {
    if (stall) s.write('HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{"sco');
    else s.write('HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n{"score":0.9}');
  });
  const c = client(model.url, 5000);
  t.after(() => c.destroy());
  const results: CallResult[] = [];
  const call = c.call(REQ, (r) => results.push(r));
  while (model.requests() === 0) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 20)); // the head and the first bytes of the body are in
  call.cancel('client went away');
  call.cancel('twice');
  await new Promise((r) => setImmediate(r));
  assert.equal(results.length, 1);
  const r = results[0]!;
  assert.ok(!r.ok && r.kind === 'canceled' && r.message === 'client went away');
  stall = false;
  await new Promise((r) => setTimeout(r, 20)); // time for the pool to offer a kept-alive connection again
  const next = await c.request(REQ);
  assert.ok(next.ok && next.body.toString() === '{"score":0.9}');
  assert.equal(model.requests(), 2);
  assert.equal(model.reused(), 0, 'the canceled call\'s connection was reused');
  assert.equal(c.inflight, 0);
});
