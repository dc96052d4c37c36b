/**
 * Pass-through upstream faults: a champion that refuses, resets, cuts or stalls a pass-through
 * request answers 502/504 in ccrouter's own error shape, never 500, and is asked exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { request } from 'undici';
import { closedPort, startUpstream } from '../helpers/upstream.js';
import { startProxy, tempDir, testConfig, type TestProxy } from '../helpers/proxy.js';
import { rawUpstream } from '../helpers/raw.js';

type T = { after(fn: () => Promise<void>): void };

/** A raw TCP champion: `onRequest` gets the socket once a whole request (headers + body) is in. */
const rawChampion = (t: T, onRequest: (socket: net.Socket) => void) => rawUpstream(t, (socket) => onRequest(socket));

async function proxyFor(t: T, champion: string, extra: Record<string, unknown> = {}): Promise<TestProxy> {
  const challenger = await startUpstream((_req, res) => void res.end('{"score":0.3}'));
  t.after(() => challenger.close());
  const p = await startProxy(testConfig(champion, challenger.url, tempDir(), extra));
  t.after(() => p.shutdown());
  return p;
}

async function call(p: TestProxy, method: string, path: string, id: string) {
  // A bounded wait: a request left without an answer fails the test instead of hanging it.
  const res = await request(p.url + path, {
    method: method as 'GET',
    headers: { 'x-request-id': id },
    body: method === 'GET' ? undefined : '{"x":1}',
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

const connectFaults: Array<[string, (s: net.Socket) => void]> = [
  ['resets the connection', (s) => s.resetAndDestroy()],
  ['closes the connection without answering', (s) => s.destroy()],
];

for (const [name, fault] of connectFaults) {
  for (const method of ['POST', 'GET']) {
    test(`regression: a pass-through ${method} whose champion ${name} answered 500; now 502 upstream_connect, asked once`, async (t) => {
      const champion = await rawChampion(t, fault);
      const p = await proxyFor(t, champion.url);
      const r = await call(p, method, '/other', 'pt-1');
      assert.equal(r.status, 502, r.text);
      assert.equal(r.headers['x-request-id'], 'pt-1');
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
      const body = JSON.parse(r.text);
      assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'model', 'requestId']);
      assert.equal(body.error, 'upstream_connect');
      assert.equal(body.model, 'v-champ');
      assert.equal(body.requestId, 'pt-1');
      assert.equal(champion.requests(), 1, 'sent once, never retried');
    });
  }
}

test('regression: a pass-through champion that sent its headers and reset before any body byte answered 500; now 502 upstream_connect', async (t) => {
  const champion = await rawChampion(t, (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Champion: yes\r\nContent-Length: 100\r\n\r\n');
    setTimeout(() => s.resetAndDestroy(), 20);
  });
  const p = await proxyFor(t, champion.url);
  const r = await call(p, 'GET', '/other', 'nobody-1');
  assert.equal(r.status, 502, r.text);
  assert.equal(r.headers['x-request-id'], 'nobody-1');
  assert.equal(r.headers['x-champion'], undefined, "none of the champion's headers on ccrouter's answer");
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  const body = JSON.parse(r.text);
  assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'model', 'requestId']);
  assert.equal(body.error, 'upstream_connect');
  assert.equal(body.model, 'v-champ');
  assert.equal(champion.requests(), 1, 'sent once, never retried');
});

test('a pass-through champion that cuts its answer short after its headers: the caller\'s answer is cut too, never presented complete', async (t) => {
  const champion = await rawChampion(t, (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a"');
    setTimeout(() => s.end(), 20);
  });
  const p = await proxyFor(t, champion.url);
  await assert.rejects(call(p, 'GET', '/other', 'cut-1'));
  assert.equal(champion.requests(), 1, 'sent once, never retried');
  assert.equal((await request(p.adminUrl + '/status')).statusCode, 200);
});

test('regression: a pass-through request to a champion that refuses connections answered 500; now 502 upstream_connect', async (t) => {
  const p = await proxyFor(t, await closedPort());
  for (const method of ['POST', 'GET']) {
    const r = await call(p, method, '/other', 'refused-1');
    assert.equal(r.status, 502, r.text);
    const body = JSON.parse(r.text);
    assert.equal(body.error, 'upstream_connect');
    assert.equal(body.model, 'v-champ');
    assert.equal(body.requestId, 'refused-1');
    assert.match(body.message, /v-champ/);
  }
  // The proxy goes on: its own answers still work.
  assert.equal((await request(p.adminUrl + '/status')).statusCode, 200);
});

test('regression: a pass-through request to a stalled champion answered fastify\'s 504 body; now 504 upstream_timeout, asked once', async (t) => {
  const champion = await rawChampion(t, () => undefined);
  const p = await proxyFor(t, champion.url, { limits: { headersTimeoutMs: 300, requestTimeoutMs: 300 } });
  const r = await call(p, 'POST', '/other', 'stall-1');
  assert.equal(r.status, 504, r.text);
  const body = JSON.parse(r.text);
  assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'model', 'requestId']);
  assert.equal(body.error, 'upstream_timeout');
  assert.equal(body.model, 'v-champ');
  assert.match(body.message, /limits\.requestTimeoutMs \(300 ms\)/);
  assert.equal(champion.requests(), 1, 'sent once, never retried');
});

test('regression: a pass-through GET answered 503 by the champion was silently retried up to 10 times; now the 503 goes to the caller, asked once', async (t) => {
  const champion = await startUpstream((_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end('{"busy":true}');
  });
  t.after(() => champion.close());
  const p = await proxyFor(t, champion.url);
  const r = await call(p, 'GET', '/health', 'busy-1');
  assert.equal(r.status, 503);
  assert.equal(r.text, '{"busy":true}', "the champion's own answer");
  assert.equal(r.headers['retry-after'], '1');
  assert.equal(champion.received.length, 1, 'the champion was asked once');
});

test('regression: a pass-through champion answering a status outside 100-599 got fastify\'s body and held its connection; now 502 upstream_connect, connection closed', { timeout: 10_000 }, async (t) => {
  const champion = await rawChampion(t, (s) => s.write('HTTP/1.1 600 Odd\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{}'));
  const p = await proxyFor(t, champion.url);
  const r = await call(p, 'GET', '/other', 'odd-1');
  assert.equal(r.status, 502, r.text);
  const body = JSON.parse(r.text);
  assert.equal(body.error, 'upstream_connect');
  assert.equal(body.model, 'v-champ');
  assert.equal(body.requestId, 'odd-1');
  // The refused answer's body (98 bytes still owed) is let go, not read until limits.requestTimeoutMs (30 s).
  await champion.closed;
  // The proxy goes on.
  assert.equal((await request(p.adminUrl + '/status')).statusCode, 200);
});
