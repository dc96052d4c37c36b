/**
 * Protocol abuse on raw sockets: framing attacks, slow clients, pipelining, header floods and a
 * bounded fuzz run. Every case checks the status, what reached the upstreams, and the records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import seedrandom from 'seedrandom';
import { request } from 'undici';
import { readJsonl, scoredProxy } from '../helpers/proxy.js';
import { rawExchange, statuses } from '../helpers/raw.js';

const setup = scoredProxy;

const smuggling: Array<[string, string]> = [
  ['Content-Length + Transfer-Encoding', 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['duplicate differing Content-Length', 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['Transfer-Encoding on HTTP/1.0', 'POST /predict HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['obs-fold header', 'POST /predict HTTP/1.1\r\nHost: x\r\nX-User-Id: a\r\n b\r\nContent-Length: 2\r\n\r\n{}'],
  ['bare LF line endings', 'POST /predict HTTP/1.1\nHost: x\nContent-Length: 2\n\n{}'],
  ['chunked with a bad chunk size', 'POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n'],
];

for (const [name, bytes] of smuggling) {
  test(`${name}: 400, nothing smuggled upstream`, async (t) => {
    const { p, ch, cl } = await setup(t);
    const r = await rawExchange(p.url, bytes, { timeoutMs: 3000 });
    assert.equal(statuses(r.text)[0], 400, r.text);
    assert.equal(statuses(r.text).length, 1, 'one answer, no second request');
    assert.ok(r.closed, 'the connection is closed after a framing error');
    assert.ok(![...ch.received, ...cl.received].some((x) => x.url === '/smuggled'), 'nothing smuggled');
    // The proxy still serves normal traffic.
    const ok = await request(p.url + '/predict', { method: 'POST', body: '{}' });
    assert.equal(ok.statusCode, 200);
    await ok.body.text();
  });
}

test('a 20 KB header answers 431', async (t) => {
  const { p, ch, cl } = await setup(t);
  const r = await rawExchange(p.url, `POST /predict HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nContent-Length: 2\r\n\r\n{}`);
  assert.equal(statuses(r.text)[0], 431);
  assert.equal(ch.received.length + cl.received.length, 0);
});

test('slow headers (one byte a second) are cut off with 408 and leave no record', { timeout: 20_000 }, async (t) => {
  const { p, ch } = await setup(t, { limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000 } });
  const head = 'POST /predict HTTP/1.1\r\nHost: x\r\nX-User-Id: slow\r\nContent-Length: 2\r\n\r\n{}';
  const r = await rawExchange(p.url, head.split(''), { gapMs: 1000, timeoutMs: 8000 });
  assert.ok(r.closed, 'the server closed the connection');
  assert.equal(statuses(r.text)[0], 408, r.text);
  assert.equal(ch.received.length, 0);
  await p.shutdown();
  assert.equal(readJsonl(path.join(p.dir, 'pairs.jsonl')).length, 0);
});

test('slow body (one byte every 300 ms) is cut off with 408 and recorded as client_timeout', { timeout: 20_000 }, async (t) => {
  const { p, ch } = await setup(t, { limits: { headersTimeoutMs: 1000, requestTimeoutMs: 1500 } });
  const body = JSON.stringify({ pad: 'x'.repeat(40) });
  const parts = [`POST /predict HTTP/1.1\r\nHost: x\r\nX-User-Id: slow\r\nContent-Length: ${body.length}\r\n\r\n`, ...body.split('')];
  const r = await rawExchange(p.url, parts, { gapMs: 300, timeoutMs: 8000 });
  assert.ok(r.closed);
  assert.equal(statuses(r.text)[0], 408, r.text);
  assert.equal(ch.received.length, 0);
  await p.shutdown();
  const [rec] = readJsonl(path.join(p.dir, 'pairs.jsonl'));
  assert.equal(rec!.error.kind, 'client_timeout');
  assert.equal(rec!.group, null);
});

test('pipelined requests: ordered answers, one record each', async (t) => {
  const { p } = await setup(t);
  const one = (id: string) => `POST /predict HTTP/1.1\r\nHost: x\r\nX-User-Id: u-${id}\r\nX-Request-Id: pipe-${id}\r\nContent-Length: 2\r\n\r\n{}`;
  const r = await rawExchange(p.url, one('1') + one('2') + one('3') + 'GET /end HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { timeoutMs: 5000 });
  assert.deepEqual(statuses(r.text), [200, 200, 200, 200]);
  const ids = [...r.text.matchAll(/x-request-id: (\S+)/gi)].map((m) => m[1]);
  assert.deepEqual(ids.slice(0, 3), ['pipe-1', 'pipe-2', 'pipe-3']);
  await p.shutdown();
  const records = readJsonl(path.join(p.dir, 'pairs.jsonl'));
  assert.deepEqual(records.map((x) => x.requestId).sort(), ['pipe-1', 'pipe-2', 'pipe-3']);
});

test('bounded fuzz: 300 generated malformed requests, 0 crashes, the proxy still serves', { timeout: 60_000 }, async (t) => {
  const { p } = await setup(t, { assignment: { unit: 'body:/user', salt: 's' }, limits: { bodyBytes: 4096, headersTimeoutMs: 1000, requestTimeoutMs: 1000 } });
  const rng = seedrandom('fuzz');
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const methods = ['POST', 'GET', 'PUT', 'P0ST', '', 'POST POST', 'DELETE'];
  const paths = ['/predict', '/predict?user=1', '//predict', '/pre%00dict', '*', '/../etc/passwd', '/predict#x', 'http://evil/predict'];
  const versions = ['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', ''];
  const headers = ['Host: x', 'Content-Length: 5', 'Content-Length: -1', 'Content-Length: 99999999999', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked',
    'X-User-Id: \u00ff', 'Expect: 100-continue', 'Connection: close, x-a', 'Content-Type: application/json', ': empty', 'Bad Header: x', 'X-Request-Id: ' + 'z'.repeat(300)];
  const bodies = ['{}', '{"user":', '{"user":1}', '\u0000\u0001', 'x'.repeat(5000), '0\r\n\r\n', '5\r\nhello\r\n0\r\n\r\n', ''];
  for (let i = 0; i < 300; i++) {
    const hs = Array.from({ length: 1 + Math.floor(rng() * 4) }, () => pick(headers));
    const sep = rng() < 0.1 ? '\n' : '\r\n';
    const bytes = `${pick(methods)} ${pick(paths)} ${pick(versions)}${sep}${hs.join(sep)}${sep}${sep}${pick(bodies)}`;
    const r = await rawExchange(p.url, Buffer.from(bytes, 'latin1'), { timeoutMs: 1500, endAfterWrite: rng() < 0.5 });
    for (const s of statuses(r.text)) assert.ok(s < 500 || s === 502 || s === 504, `request ${i} answered ${s}: ${JSON.stringify(bytes.slice(0, 200))}`);
  }
  const ok = await request(p.url + '/predict', { method: 'POST', body: '{"user":"after-fuzz"}' });
  assert.equal(ok.statusCode, 200);
  await ok.body.text();
});
