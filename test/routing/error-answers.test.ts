/**
 * Every error ccrouter answers, on either listener, has one body: `{"error", "message"}` plus
 * `requestId` where a request exists, its status the one `HTTP_ERRORS` gives its code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { HTTP_ERRORS } from '../../src/errors.js';
import { scoredProxy, startProxy, tempDir, testConfig, type TestProxy } from '../helpers/proxy.js';
import { rawExchange, statuses } from '../helpers/raw.js';

type T = { after(fn: () => Promise<void>): void };

async function proxy(t: T, extra: Record<string, unknown> = {}): Promise<TestProxy> {
  return (await scoredProxy(t, extra)).p;
}

/** Status, headers (lower-cased names) and JSON body of the first answer in a raw exchange. */
function parse(text: string): { status: number; headers: Map<string, string>; body: Record<string, unknown> } {
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    headers.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
  }
  const length = Number(headers.get('content-length'));
  const start = text.indexOf('\r\n\r\n') + 4;
  return { status: statuses(text)[0]!, headers, body: JSON.parse(text.slice(start, start + length)) };
}

/** The one shape: `error` a code of the table, its status, a message, and nothing but the known fields. */
function assertShape(got: { status: number; body: Record<string, unknown> }, code: keyof typeof HTTP_ERRORS, requestId?: string): void {
  assert.equal(got.body.error, code, JSON.stringify(got.body));
  assert.equal(got.status, HTTP_ERRORS[code].status);
  assert.equal(typeof got.body.message, 'string');
  assert.ok((got.body.message as string).length > 0);
  assert.deepEqual(Object.keys(got.body).sort(), requestId === undefined ? ['error', 'message'] : ['error', 'message', 'requestId']);
  if (requestId !== undefined) assert.equal(got.body.requestId, requestId);
}

test('regression: a method the public listener does not take got fastify\'s own 404 body; now not_found in ccrouter\'s shape', async (t) => {
  const p = await proxy(t);
  for (const method of ['PROPFIND', 'TRACE']) {
    const r = await rawExchange(p.url, `${method} /other HTTP/1.1\r\nHost: x\r\nX-Request-Id: m-1\r\nConnection: close\r\n\r\n`);
    const got = parse(r.text);
    assertShape(got, 'not_found', 'm-1');
    assert.equal(got.headers.get('x-request-id'), 'm-1');
    assert.match(got.body.message as string, new RegExp(`method ${method} `));
  }
});

test('regression: a path fastify cannot decode got fastify\'s own 400 body; now bad_request in ccrouter\'s shape, on both listeners', async (t) => {
  const p = await proxy(t);
  const pub = parse((await rawExchange(p.url, 'GET /%zz HTTP/1.1\r\nHost: x\r\nX-Request-Id: u-1\r\nConnection: close\r\n\r\n')).text);
  assertShape(pub, 'bad_request', 'u-1');
  assert.equal(pub.headers.get('x-request-id'), 'u-1');
  const adm = parse((await rawExchange(p.adminUrl!, 'GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).text);
  assertShape(adm, 'bad_request');
});

test('regression: parser-level answers had fastify\'s body ({"error":"Bad Request","statusCode":400}); now bad_request and headers_too_large, on both listeners', async (t) => {
  const p = await proxy(t);
  for (const url of [p.url, p.adminUrl!]) {
    const framing = await rawExchange(url, 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    assertShape(parse(framing.text), 'bad_request');
    assert.ok(framing.closed);
    const big = await rawExchange(url, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assertShape(parse(big.text), 'headers_too_large');
  }
});

test('regression: slow headers got a fastify-style 408 body ({"error":"Request Timeout","statusCode":408}); now client_timeout in ccrouter\'s shape', { timeout: 20_000 }, async (t) => {
  const p = await proxy(t, { limits: { headersTimeoutMs: 500, requestTimeoutMs: 500 } });
  const r = await rawExchange(p.url, ['GET / HTTP/1.1\r\n', 'Host: x\r\n'], { gapMs: 100, timeoutMs: 10_000 });
  assertShape(parse(r.text), 'client_timeout');
  assert.ok(r.closed);
});

test('regression: an admin body over its limit got fastify\'s 413 body; now too_large naming the limit', async (t) => {
  const p = await proxy(t);
  const r = await rawExchange(p.adminUrl!, 'POST /bypass HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret-token\r\nContent-Length: 100000\r\n\r\n');
  const got = parse(r.text);
  assertShape(got, 'too_large');
  assert.equal(got.body.message, 'request body is over 65536 bytes, the limit of /bypass');
});

test('admin answers 401, 403, 404 and 405 in the one shape, status from the table', async (t) => {
  const p = await proxy(t);
  const cases: Array<[string, string, Record<string, string>, keyof typeof HTTP_ERRORS]> = [
    ['POST', '/rollback', {}, 'unauthorized'],
    ['GET', '/nope', {}, 'not_found'],
    ['GET', '/rollback', { authorization: 'Bearer secret-token' }, 'method_not_allowed'],
    ['POST', '/bypass', { authorization: 'Bearer secret-token', 'content-type': 'application/json' }, 'bad_request'],
  ];
  for (const [method, path, headers, code] of cases) {
    const res = await request(p.adminUrl! + path, { method: method as 'GET', headers, body: method === 'POST' ? '{}' : undefined });
    assertShape({ status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> }, code);
  }
  const noToken = await startProxy(testConfig('http://127.0.0.1:1', 'http://127.0.0.1:1', tempDir()), {});
  t.after(() => noToken.shutdown());
  const res = await request(noToken.adminUrl! + '/rollback', { method: 'POST' });
  assertShape({ status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> }, 'forbidden');
});
