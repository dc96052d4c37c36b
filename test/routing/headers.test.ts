import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerHeaders, passThroughHeaders, requestIdFor, upstreamHeaders } from '../../src/routing/headers.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('requestIdFor keeps a client id of 1-128 characters of [A-Za-z0-9._-], else makes a UUID v4', () => {
  for (const id of ['a', 'req-1.A_b', 'x'.repeat(128)]) assert.equal(requestIdFor({ 'x-request-id': id }), id);
  for (const id of ['', 'x'.repeat(129), 'a b', 'a/b', 'caf\u00e9', '<script>', 'a\nb']) {
    assert.match(requestIdFor({ 'x-request-id': id }), UUID_V4, JSON.stringify(id));
  }
  assert.match(requestIdFor({}), UUID_V4);
  assert.match(requestIdFor({ 'x-request-id': ['a', 'b'] as never }), UUID_V4);
  assert.notEqual(requestIdFor({}), requestIdFor({}));
});

test('upstreamHeaders drops hop-by-hop headers, host, content-length and ccrouter\'s own, keeps the rest in order and spelling', () => {
  const rawHeaders = [
    'Host', 'proxy:8080', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'TE', 'trailers', 'Trailer', 'x',
    'Transfer-Encoding', 'chunked', 'Upgrade', 'h2c', 'Proxy-Connection', 'x', 'Expect', '100-continue', 'Content-Length', '7',
    'X-Request-Id', 'old', 'X-Forwarded-For', '10.0.0.1', 'X-Ccrouter-Role', 'served',
    'Content-Type', 'application/json', 'Accept', 'a', 'accept', 'b', 'X-Custom', 'v',
  ];
  const out = upstreamHeaders(rawHeaders, { connection: 'keep-alive', 'x-forwarded-for': '10.0.0.1' }, 'rid', '127.0.0.1');
  assert.deepEqual(out, [
    'Content-Type', 'application/json', 'Accept', 'a', 'accept', 'b', 'X-Custom', 'v',
    'x-request-id', 'rid', 'x-forwarded-for', '10.0.0.1, 127.0.0.1',
  ]);
});

test('upstreamHeaders drops every header the connection header names, whatever their case', () => {
  const rawHeaders = ['Connection', 'X-Secret, keep-alive', 'Connection', ' x-other ', 'x-secret', '1', 'X-OTHER', '2', 'X-Kept', '3'];
  const out = upstreamHeaders(rawHeaders, { connection: 'X-Secret, keep-alive, x-other ' }, 'rid', undefined);
  assert.deepEqual(out, ['X-Kept', '3', 'x-request-id', 'rid']);
});

test('upstreamHeaders x-forwarded-for: the peer appended to what came, repeated headers joined, none without either', () => {
  assert.deepEqual(upstreamHeaders([], {}, 'r', '10.0.0.9'), ['x-request-id', 'r', 'x-forwarded-for', '10.0.0.9']);
  assert.deepEqual(upstreamHeaders([], { 'x-forwarded-for': ['1.1.1.1', '2.2.2.2'] as never }, 'r', '10.0.0.9'), ['x-request-id', 'r', 'x-forwarded-for', '1.1.1.1, 2.2.2.2, 10.0.0.9']);
  assert.deepEqual(upstreamHeaders([], { 'x-forwarded-for': '1.1.1.1' }, 'r', undefined), ['x-request-id', 'r', 'x-forwarded-for', '1.1.1.1']);
  assert.deepEqual(upstreamHeaders([], {}, 'r', undefined), ['x-request-id', 'r']);
});

test('answerHeaders: hop-by-hop and ccrouter\'s own dropped, repeated headers one pair per value, content-type reported', () => {
  const out: string[] = [];
  const kept = answerHeaders({
    'content-type': 'application/json', connection: 'keep-alive', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked',
    'content-length': '13', 'x-request-id': 'model-id', 'x-ccrouter-role': 'x', 'x-ccrouter-anything': 'y',
    'set-cookie': ['a=1', 'b=2'], 'x-model': 'yes', 'content-encoding': 'gzip',
  }, false, out);
  assert.equal(kept, true);
  assert.deepEqual(out, ['content-type', 'application/json', 'set-cookie', 'a=1', 'set-cookie', 'b=2', 'x-model', 'yes', 'content-encoding', 'gzip']);
});

test('answerHeaders rewritten: the model\'s content-type and content-encoding are left out', () => {
  const out: string[] = [];
  assert.equal(answerHeaders({ 'content-type': 'text/plain', 'content-encoding': 'gzip', 'x-model': 'yes' }, true, out), false);
  assert.deepEqual(out, ['x-model', 'yes']);
});

test('answerHeaders drops what the connection headers name (several of them), and nothing it did not append', () => {
  const out = ['x-secret', 'ccrouter-set'];
  const connection = ['X-Secret', 'content-type'] as unknown as string; // two connection headers, as undici parses them
  const kept = answerHeaders({ connection, 'x-secret': '1', 'content-type': 'text/plain', 'x-kept': '2' }, false, out);
  assert.equal(kept, false, 'a content-type named by connection is not kept');
  assert.deepEqual(out, ['x-secret', 'ccrouter-set', 'x-kept', '2']);
});

test('answerHeaders: no headers, nothing appended; an absent value is skipped', () => {
  const out = ['a', 'b'];
  assert.equal(answerHeaders(null, false, out), false);
  assert.deepEqual(out, ['a', 'b']);
  assert.equal(answerHeaders({ 'x-a': '1', 'x-dangling': undefined }, false, out), false);
  assert.deepEqual(out, ['a', 'b', 'x-a', '1']);
});

test('answerHeaders: a header named like an Object.prototype key is an ordinary header', () => {
  const headers = Object.create(null) as Record<string, string>;
  headers['constructor'] = 'c';
  headers['__proto__'] = 'p';
  const out: string[] = [];
  answerHeaders(headers, false, out);
  assert.deepEqual(out, ['constructor', 'c', '__proto__', 'p']);
});

test('passThroughHeaders drops hop-by-hop headers, sets the request id and appends the peer to x-forwarded-for', () => {
  const headers: Record<string, string | string[] | undefined> = {
    'keep-alive': 'timeout=5', te: 'trailers', trailer: 'x', 'transfer-encoding': 'chunked', upgrade: 'h2c',
    'proxy-connection': 'x', expect: '100-continue', 'x-request-id': 'old', 'x-forwarded-for': ['1.1.1.1', '2.2.2.2'], accept: 'a',
  };
  const out = passThroughHeaders(headers, 'rid', '10.0.0.9');
  assert.equal(out, headers, 'edited in place');
  assert.deepEqual(out, { 'x-request-id': 'rid', 'x-forwarded-for': '1.1.1.1, 2.2.2.2, 10.0.0.9', accept: 'a' });
  assert.deepEqual(passThroughHeaders({}, 'r', '10.0.0.9'), { 'x-request-id': 'r', 'x-forwarded-for': '10.0.0.9' });
  assert.deepEqual(passThroughHeaders({ 'x-forwarded-for': '1.1.1.1' }, 'r', undefined), { 'x-forwarded-for': '1.1.1.1', 'x-request-id': 'r' });
});
