/**
 * The request seam: faults on a request's path are caught, answered and recorded; ccrouter's own
 * answers share one shape; the pair channel carries every record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dc from 'node:diagnostics_channel';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { request } from 'undici';
import { scoreBehaviour, startUpstream, type Behaviour, type Upstream } from '../helpers/upstream.js';
import { startProxy, tempDir, testConfig, type TestProxy } from '../helpers/proxy.js';
import { rawExchange, statuses } from '../helpers/raw.js';

type T = { after(fn: () => Promise<void>): void };

async function upstreams(t: T, a: Behaviour = scoreBehaviour(0.8), b: Behaviour = scoreBehaviour(0.3)): Promise<[Upstream, Upstream]> {
  const champion = await startUpstream(a);
  const challenger = await startUpstream(b);
  t.after(() => champion.close());
  t.after(() => challenger.close());
  return [champion, challenger];
}

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  // A bounded wait: a request left without an answer fails the test instead of hanging it.
  const res = await request(url + '/predict', { method: 'POST', headers: { 'x-user-id': 'u-1', ...headers }, body, headersTimeout: 5000, bodyTimeout: 5000 });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

async function metric(p: TestProxy, name: string): Promise<number> {
  const text = await (await request(p.adminUrl + '/metrics')).body.text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** A champion answer with a score and, beside it, JSON nested too deep for JSON.stringify. */
function deepAnswer(gzip: boolean): Behaviour {
  const json = Buffer.from(`{"score":0.9,"deep":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
    res.end(gzip ? zlib.gzipSync(json) : json);
  };
}

for (const gzip of [false, true]) {
  const name = gzip
    ? 'regression: a gzip model answer that could not be re-encoded on a control-patched route ended the process (unhandled rejection)'
    : 'regression: a model answer that could not be re-encoded on a control-patched route left the caller unanswered and the request unrecorded';
  test(name, async (t) => {
    const [ch, cl] = await upstreams(t, deepAnswer(gzip));
    const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { traffic: { control: 1 }, control: { patch: { decision: 'approve' } } }));
    const r = await post(p.url, '{}', { 'x-request-id': 'deep-1' });
    assert.equal(r.status, 500);
    assert.deepEqual(JSON.parse(r.text), { error: 'internal_error', message: 'ccrouter failed on this request', requestId: 'deep-1' });
    assert.equal(r.headers['x-request-id'], 'deep-1');
    assert.equal(await metric(p, 'ccrouter_internal_errors_total'), 1);

    // The process serves on.
    ch.behave(scoreBehaviour(0.8));
    const ok = await post(p.url, '{}', { 'x-request-id': 'after-1' });
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.text), { score: 0.8, decision: 'approve' });

    const records = await p.stopAndRead();
    assert.deepEqual(records.map((x) => x.requestId), ['deep-1', 'after-1']);
    const [rec] = records;
    assert.equal(rec!.group, 'control');
    assert.equal(rec!.served, 'champion');
    assert.equal(rec!.error.kind, 'internal_error');
    assert.match(rec!.error.message, /Maximum call stack/);
    assert.equal(rec!.champion.score, 0.9, 'the champion was scored all the same');
    assert.equal(rec!.challenger.score, 0.3);
  });
}

test('regression: a scored request with content-type text/plain answered 500 (fastify parsed the body) and left no record', async (t) => {
  const [ch, cl] = await upstreams(t);
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir()));
  const r = await post(p.url, '{"a":1}', { 'content-type': 'text/plain', 'x-request-id': 'text-1' });
  assert.equal(r.status, 200);
  assert.equal(ch.received[0]!.body.toString(), '{"a":1}', 'the body forwarded byte for byte');
  const [rec] = await p.stopAndRead();
  assert.equal(rec!.requestId, 'text-1');
  assert.equal(rec!.champion.score, 0.8);
});

test('a body over limits.bodyBytes: the same 413 and message whether declared, streamed, scored or passed through', async (t) => {
  const [ch, cl] = await upstreams(t);
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { limits: { bodyBytes: 100 } }));
  const big = JSON.stringify({ pad: 'x'.repeat(200) });
  const message = 'request body is over limits.bodyBytes (100 bytes)';
  const declared = await request(p.url + '/predict', { method: 'POST', headers: { 'x-request-id': 'declared' }, body: big });
  const streamed = await request(p.url + '/predict', { method: 'POST', headers: { 'x-request-id': 'streamed' }, body: Readable.from([big]) });
  const passed = await request(p.url + '/other', { method: 'POST', headers: { 'x-request-id': 'passed' }, body: big });
  for (const [res, id] of [[declared, 'declared'], [streamed, 'streamed'], [passed, 'passed']] as const) {
    assert.equal(res.statusCode, 413, id);
    assert.equal(res.headers['x-request-id'], id);
    assert.equal(res.headers.connection, 'close');
    assert.deepEqual(await res.body.json(), { error: 'too_large', message, requestId: id });
  }
  const records = await p.stopAndRead();
  assert.deepEqual(records.map((r) => [r.requestId, r.error.kind, r.error.message]), [['declared', 'too_large', message], ['streamed', 'too_large', message]]);
  assert.equal(ch.received.length + cl.received.length, 0);
});

test('ccrouter:pair carries every written record, with the recorder that wrote it', async (t) => {
  const [ch, cl] = await upstreams(t);
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir()));
  const seen: Array<{ record: { requestId: string }; source: unknown }> = [];
  const listener = (m: unknown) => void seen.push(m as (typeof seen)[number]);
  dc.subscribe('ccrouter:pair', listener);
  t.after(async () => void dc.unsubscribe('ccrouter:pair', listener));
  await post(p.url, '{}', { 'x-request-id': 'chan-1' });
  await post(p.url, 'not json', { 'x-request-id': 'chan-2' });
  const records = await p.stopAndRead();
  assert.deepEqual(seen.map((m) => m.record.requestId), records.map((r) => r.requestId));
  assert.ok(seen.every((m) => m.source === p.runtime.recorder));
});

test('a pair subscriber that throws is counted as a fault: records and answers go on', async (t) => {
  const [ch, cl] = await upstreams(t);
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir()));
  const off = p.runtime.recorder.onPair(() => {
    throw new Error('subscriber bug');
  });
  t.after(async () => void off());
  for (const id of ['sub-1', 'sub-2']) assert.equal((await post(p.url, '{}', { 'x-request-id': id })).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 100)); // records are written once both calls are done
  assert.equal(await metric(p, 'ccrouter_internal_errors_total'), 2);
  assert.deepEqual((await p.stopAndRead()).map((r) => r.requestId), ['sub-1', 'sub-2']);
});

test('pass-through: a path that leaves the champion URL answers 400 in ccrouter\'s own shape, nothing is sent', async (t) => {
  const [ch, cl] = await upstreams(t);
  const p = await startProxy(testConfig(ch.url + '/base', cl.url, tempDir()));
  t.after(() => p.shutdown());
  for (const path of ['/../secret', '/a/%2e%2e/secret']) {
    const r = await rawExchange(p.url, `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Request-Id: trav\r\nConnection: close\r\n\r\n`);
    assert.deepEqual(statuses(r.text), [400], path);
    assert.match(r.text, /x-request-id: trav\r\n/);
    const body = JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4));
    assert.equal(body.error, 'bad_request');
    assert.equal(body.requestId, 'trav');
  }
  assert.equal(ch.received.length + cl.received.length, 0);
});

test('with passthrough off, an unscored path answers 404 not_found with x-request-id', async (t) => {
  const [ch, cl] = await upstreams(t);
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { passthrough: false }));
  t.after(() => p.shutdown());
  const r = await request(p.url + '/other', { headers: { 'x-request-id': 'nf-1' } });
  assert.equal(r.statusCode, 404);
  assert.equal(r.headers['x-request-id'], 'nf-1');
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  assert.deepEqual(await r.body.json(), { error: 'not_found', message: 'no scored route matches and passthrough is off', requestId: 'nf-1' });
  assert.equal(ch.received.length, 0);
});
