import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import { request } from 'undici';
import { closedPort, scoreBehaviour, startUpstream, type Upstream } from '../helpers/upstream.js';
import { startProxy, tempDir, testConfig } from '../helpers/proxy.js';
import { rawUpstream } from '../helpers/raw.js';

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const t0 = performance.now();
  const res = await request(url + '/predict', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': 'u-1', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: safeJson(text), ms: performance.now() - t0 };
}

function safeJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function upstreams(t: { after(fn: () => Promise<void>): void }, a = scoreBehaviour(0.8), b = scoreBehaviour(0.3)): Promise<[Upstream, Upstream]> {
  const champion = await startUpstream(a);
  const challenger = await startUpstream(b);
  t.after(() => champion.close());
  t.after(() => challenger.close());
  return [champion, challenger];
}

test('champion-served request: both models called, champion answer returned, one pair record', async (t) => {
  const [ch, cl] = await upstreams(t);
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { logging: { dir: tempDir(), fields: { country: '/country' } } }));
  const r = await post(p.url, { country: 'US' }, { 'x-request-id': 'req-1' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { score: 0.8 });
  assert.equal(r.headers['x-request-id'], 'req-1');
  assert.equal(r.headers['x-ccrouter-group'], 'champion');
  assert.equal(r.headers['x-ccrouter-model'], 'v-champ');
  assert.equal(r.headers['x-ccrouter-fallback'], undefined);
  assert.equal(r.headers['x-model'], 'yes', 'end-to-end response headers are passed');
  const records = await p.stopAndRead();
  assert.equal(records.length, 1);
  const rec = records[0]!;
  assert.equal(rec.msg, 'pair');
  assert.equal(rec.level, 30);
  assert.equal(typeof rec.time, 'number');
  assert.equal(rec.pid, undefined);
  assert.equal(rec.hostname, undefined);
  assert.equal(rec.requestId, 'req-1');
  assert.equal(rec.route, 'POST /predict');
  assert.equal(rec.unit, 'u-1');
  assert.equal(rec.assigned, 'key');
  assert.equal(rec.group, 'champion');
  assert.equal(rec.served, 'champion');
  assert.equal(rec.fallback, false);
  assert.deepEqual({ ...rec.champion, latencyMs: 0 }, { version: 'v-champ', status: 200, latencyMs: 0, score: 0.8, decision: true, error: null });
  assert.deepEqual({ ...rec.challenger, latencyMs: 0 }, { version: 'v-chall', status: 200, latencyMs: 0, score: 0.3, decision: false, error: null });
  assert.equal(rec.agree, false);
  assert.deepEqual(rec.fields, { country: 'US' });
  assert.equal(ch.received[0]!.headers['x-ccrouter-role'], 'served');
  assert.equal(cl.received[0]!.headers['x-ccrouter-role'], 'shadow');
  assert.equal(ch.received[0]!.body.toString(), '{"country":"US"}', 'body forwarded byte for byte');
});

test('a challenger delayed 500 ms does not delay champion-served answers', async (t) => {
  const [ch, cl] = await upstreams(t, scoreBehaviour(0.8), scoreBehaviour(0.3, 500));
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir()));
  t.after(() => p.shutdown());
  const order: string[] = [];
  let shadowDone = false;
  // The shadow call is still running when the caller has its answer.
  const answered = post(p.url, {}).then((r) => {
    order.push(shadowDone ? 'answer-after-shadow' : 'answer-before-shadow');
    return r;
  });
  const shadowFinished = (async () => {
    while (cl.received.length === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 500));
    shadowDone = true;
  })();
  const r = await answered;
  await shadowFinished;
  assert.equal(r.status, 200);
  assert.deepEqual(order, ['answer-before-shadow']);
  const records = await p.stopAndRead();
  assert.equal(records.length, 1, 'the record waits for the shadow call');
  const rec = records[0]!;
  assert.ok(rec.challenger.latencyMs > rec.champion.latencyMs, 'the shadow outcome is the slow one');
  assert.ok(rec.challenger.latencyMs >= 400);
  assert.ok(r.ms < rec.challenger.latencyMs, 'the caller was answered before the shadow finished');
});

for (const [name, behaviour, kind] of [
  ['answers 503', (_req: unknown, res: http.ServerResponse) => { res.writeHead(503); res.end('down'); }, 'status'],
  ['answers a garbage body', (_req: unknown, res: http.ServerResponse) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('<html>'); }, 'parse'],
  ['answers without the score', (_req: unknown, res: http.ServerResponse) => { res.writeHead(200); res.end('{"other":1}'); }, 'parse'],
  ['times out', scoreBehaviour(0.3, 1500), 'timeout'],
] as const) {
  test(`challenger-served request, challenger ${name}: caller gets the champion's 200 with fallback`, async (t) => {
    const [ch, cl] = await upstreams(t, scoreBehaviour(0.8), behaviour as never);
    const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { traffic: { challenger: 1 }, models: {
      champion: { url: ch.url, version: 'v-champ', timeoutMs: 1000 },
      challenger: { url: cl.url, version: 'v-chall', timeoutMs: 300 },
    } }));
    const r = await post(p.url, {});
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { score: 0.8 });
    assert.equal(r.headers['x-ccrouter-group'], 'challenger');
    assert.equal(r.headers['x-ccrouter-model'], 'v-champ');
    assert.equal(r.headers['x-ccrouter-fallback'], '1');
    const [rec] = await p.stopAndRead();
    assert.equal(rec!.group, 'challenger');
    assert.equal(rec!.served, 'champion');
    assert.equal(rec!.fallback, true);
    assert.equal(rec!.challenger.error.kind, kind);
    assert.equal(typeof rec!.challenger.error.message, 'string');
    assert.equal(rec!.champion.score, 0.8);
    assert.equal(rec!.agree, null);
  });
}

test('challenger-served request, challenger port closed, shadow off: the champion is called then', async (t) => {
  const [ch] = await upstreams(t);
  const p = await startProxy(testConfig(ch.url, await closedPort(), tempDir(), { traffic: { challenger: 1, shadow: false } }));
  const r = await post(p.url, {});
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-ccrouter-fallback'], '1');
  const [rec] = await p.stopAndRead();
  assert.equal(rec!.challenger.error.kind, 'connect');
  assert.equal(rec!.champion.status, 200);
  assert.equal(ch.received.length, 1);
  assert.equal(ch.received[0]!.headers['x-ccrouter-role'], 'served');
});

test('fallback: none lets the challenger failure reach the caller', async (t) => {
  const [ch, cl] = await upstreams(t, scoreBehaviour(0.8), (_r, res) => { res.writeHead(500); res.end('boom'); });
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { traffic: { challenger: 1 }, fallback: 'none' }));
  const r = await post(p.url, {});
  assert.equal(r.status, 500);
  assert.equal(r.text, 'boom');
  const [rec] = await p.stopAndRead();
  assert.equal(rec!.served, 'challenger');
  assert.equal(rec!.fallback, false);
});

test('champion timeout answers 504, connect refused answers 502, both with the JSON error body', async (t) => {
  const [ch, cl] = await upstreams(t, scoreBehaviour(0.8, 2000));
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { models: {
    champion: { url: ch.url, version: 'v-champ', timeoutMs: 200 },
    challenger: { url: cl.url, version: 'v-chall', timeoutMs: 1000 },
  } }));
  const r = await post(p.url, {}, { 'x-request-id': 'slow-1' });
  assert.equal(r.status, 504);
  assert.deepEqual(r.json, { error: 'upstream_timeout', model: 'v-champ', requestId: 'slow-1', message: 'the champion (v-champ) did not answer within models.champion.timeoutMs (200 ms)' });
  const [rec] = await p.stopAndRead();
  assert.equal(rec!.champion.error.kind, 'timeout');
  assert.equal(rec!.challenger.score, 0.3);

  const p2 = await startProxy(testConfig(await closedPort(), cl.url, tempDir()));
  const r2 = await post(p2.url, {}, { 'x-request-id': 'down-1' });
  assert.equal(r2.status, 502);
  assert.deepEqual(r2.json, { error: 'upstream_connect', model: 'v-champ', requestId: 'down-1', message: 'the champion (v-champ) could not be reached or its answer was broken' });
  const [rec2] = await p2.stopAndRead();
  assert.equal(rec2!.champion.error.kind, 'connect');
});

test('an upstream 4xx from the served champion is passed through as it is', async (t) => {
  const [ch, cl] = await upstreams(t, (_r, res) => { res.writeHead(422, { 'content-type': 'application/json' }); res.end('{"error":"bad features"}'); });
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir()));
  const r = await post(p.url, {});
  assert.equal(r.status, 422);
  assert.deepEqual(r.json, { error: 'bad features' });
  const [rec] = await p.stopAndRead();
  assert.equal(rec!.champion.error.kind, 'status');
  assert.equal(rec!.champion.status, 422);
});

test('control group: the merge patch is applied to the champion body, sent uncompressed', async (t) => {
  const [ch, cl] = await upstreams(t, (_r, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    res.end(zlib.gzipSync(JSON.stringify({ score: 0.9, decision: 'decline', extra: { keep: 1, drop: 2 } })));
  });
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { traffic: { control: 1 }, control: { patch: { decision: 'approve', extra: { drop: null } } } }));
  const r = await post(p.url, {});
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-encoding'], undefined);
  assert.deepEqual(r.json, { score: 0.9, decision: 'approve', extra: { keep: 1 } });
  assert.equal(r.headers['x-ccrouter-group'], 'control');
  const [rec] = await p.stopAndRead();
  assert.equal(rec!.group, 'control');
  assert.equal(rec!.served, 'champion');
  assert.equal(rec!.champion.score, 0.9, 'the gzip body was decoded for the score');
});

test('control group with a static response', async (t) => {
  const [ch, cl] = await upstreams(t);
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { traffic: { control: 1 }, control: { response: { status: 202, body: { decision: 'approve' } } } }));
  const r = await post(p.url, {});
  assert.equal(r.status, 202);
  assert.deepEqual(r.json, { decision: 'approve' });
  const [rec] = await p.stopAndRead();
  assert.equal(rec!.champion.score, 0.8, 'the champion was still scored');
});

test('hop-by-hop headers: Expect: 100-continue and Connection: x-foo do not break the call or reach upstream', async (t) => {
  const [ch, cl] = await upstreams(t);
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir()));
  t.after(() => p.shutdown());
  const body = JSON.stringify({ a: 1 });
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request(p.url + '/predict', {
      method: 'POST',
      headers: {
        'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue',
        connection: 'keep-alive, x-foo', 'x-foo': 'secret', 'keep-alive': 'timeout=5', te: 'trailers', 'x-user-id': 'u-9',
        'x-forwarded-for': '203.0.113.9',
      },
    });
    req.on('continue', () => req.end(body));
    req.on('response', (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); });
    req.on('error', reject);
  });
  assert.equal(status, 200);
  for (const up of [ch, cl]) {
    const h = up.received[0]!.headers;
    for (const name of ['expect', 'x-foo', 'keep-alive', 'te']) assert.equal(h[name], undefined, `${name} reached the upstream`);
    assert.equal(h['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(h['x-user-id'], 'u-9');
    assert.match(String(h['x-request-id']), /^[0-9a-f-]{36}$/);
  }
});

test('the answer: the model\'s end-to-end headers (repeats kept), no hop-by-hop ones, ccrouter\'s own headers once', async (t) => {
  const [ch, cl] = await upstreams(t, (_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Set-Cookie', ['a=1', 'b=2']);
    res.setHeader('Connection', 'keep-alive, X-Secret');
    res.setHeader('X-Secret', 'hop');
    res.setHeader('Keep-Alive', 'timeout=5');
    res.setHeader('Trailer', 'x-t');
    res.setHeader('X-Request-Id', 'from-the-model');
    res.setHeader('X-Ccrouter-Group', 'challenger');
    res.setHeader('X-Model', 'yes');
    res.end('{"score":0.8}');
  });
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir()));
  t.after(() => p.shutdown());
  const raw = await new Promise<{ head: string[]; body: string }>((resolve, reject) => {
    const req = http.request(p.url + '/predict', { method: 'POST', headers: { 'content-type': 'application/json', 'x-user-id': 'u-1', 'x-request-id': 'req-7' } });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ head: res.rawHeaders, body }));
    });
    req.on('error', reject);
    req.end('{}');
  });
  const all = (name: string) => raw.head.flatMap((v, i) => (i % 2 === 1 && raw.head[i - 1]!.toLowerCase() === name ? [v] : []));
  assert.equal(raw.body, '{"score":0.8}');
  assert.deepEqual(all('x-request-id'), ['req-7']);
  assert.deepEqual(all('x-ccrouter-group'), ['champion']);
  assert.deepEqual(all('x-ccrouter-model'), ['v-champ']);
  assert.deepEqual(all('set-cookie'), ['a=1', 'b=2']);
  assert.deepEqual(all('x-model'), ['yes']);
  assert.deepEqual(all('content-type'), ['application/json']);
  assert.deepEqual(all('content-length'), [String(raw.body.length)]);
  for (const name of ['x-secret', 'trailer']) assert.deepEqual(all(name), [], `${name} reached the caller`);
  // Node's own keep-alive handling of the caller's connection, not the model's timeout=5.
  assert.deepEqual(all('keep-alive').filter((v) => v === 'timeout=5'), []);
  assert.deepEqual(all('connection'), ['keep-alive']);
});

test('a model header value with latin1 bytes reaches the caller byte for byte', async (t) => {
  const model = await rawUpstream(t, (socket) => {
    socket.write(Buffer.concat([
      Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Name: '),
      Buffer.from([0x63, 0x61, 0x66, 0xe9]),
      Buffer.from('\r\nContent-Length: 13\r\n\r\n{"score":0.8}'),
    ]));
  });
  const p = await startProxy(testConfig(model.url, model.url, tempDir()));
  t.after(() => p.shutdown());
  const r = await post(p.url, {});
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-name'], 'caf\u00e9');
});

test('an answer without a content type goes out as application/octet-stream', async (t) => {
  const [ch, cl] = await upstreams(t, (_req, res) => { res.end('{"score":0.8}'); });
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir()));
  t.after(() => p.shutdown());
  const r = await post(p.url, {});
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/octet-stream');
  assert.deepEqual(r.json, { score: 0.8 });
});

test('Upgrade and Connection: upgrade on a scored route: answered normally, no upgrade reaches a model', async (t) => {
  const [ch, cl] = await upstreams(t);
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir()));
  t.after(() => p.shutdown());
  for (const connection of [undefined, 'upgrade']) {
    const status = await new Promise<number>((resolve, reject) => {
      const headers: Record<string, string | number> = { 'content-length': 2, upgrade: 'websocket', 'x-user-id': 'u' };
      if (connection) headers.connection = connection;
      const req = http.request(p.url + '/predict', { method: 'POST', headers });
      req.on('response', (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); });
      req.on('upgrade', (_res, socket) => { socket.destroy(); resolve(101); });
      req.on('error', reject);
      req.end('{}');
    });
    assert.notEqual(status, 101, 'never upgraded');
    assert.ok(status === 200 || status === 400, `answered ${status}`);
  }
  assert.ok([...ch.received, ...cl.received].every((r) => r.headers.upgrade === undefined));
});

test('malformed JSON while a body pointer is needed: 400, nothing upstream, a record with the error', async (t) => {
  const [ch, cl] = await upstreams(t);
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { assignment: { unit: 'body:/user', salt: 's' } }));
  const r = await post(p.url, '{"user": ', { 'x-request-id': 'bad-1' });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'bad_request');
  assert.equal(r.json.requestId, 'bad-1');
  assert.equal(r.headers['x-request-id'], 'bad-1');
  assert.equal(r.headers['x-ccrouter-group'], undefined);
  const [rec] = await p.stopAndRead();
  assert.equal(ch.received.length + cl.received.length, 0);
  assert.equal(rec!.error.kind, 'bad_request');
  assert.equal(rec!.group, null);
  assert.equal(rec!.bucket, null);
  assert.equal(rec!.assigned, null);
  assert.equal(rec!.served, null);
  assert.equal(rec!.champion.error.kind, 'skipped');
});

test('a body over limits.bodyBytes answers 413 with a record, nothing upstream', async (t) => {
  const [ch, cl] = await upstreams(t);
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { limits: { bodyBytes: 100 } }));
  const r = await post(p.url, { pad: 'x'.repeat(200) });
  assert.equal(r.status, 413);
  assert.equal(r.json.error, 'too_large');
  const [rec] = await p.stopAndRead();
  assert.equal(rec!.error.kind, 'too_large');
  assert.equal(ch.received.length + cl.received.length, 0);
});

test('missing unit key: random assignment from the seeded generator, unit null', async (t) => {
  const [ch, cl] = await upstreams(t);
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { assignment: { unit: 'header:x-user-id', salt: 's', seed: 7 } }));
  await request(p.url + '/predict', { method: 'POST', body: '{}' }).then((r) => r.body.text());
  const [rec] = await p.stopAndRead();
  assert.equal(rec!.assigned, 'random');
  assert.equal(rec!.unit, null);
  const seedrandom = (await import('seedrandom')).default;
  assert.equal(rec!.bucket, seedrandom('7')());
});

test('logging.unit hash and omit; logging.bodies with redact', async (t) => {
  const [ch, cl] = await upstreams(t);
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), {
    assignment: { unit: 'header:x-user-id', salt: 'pepper' },
    logging: { dir: tempDir(), unit: 'hash', bodies: true, redact: ['/ssn', '/card/number'] },
  }));
  await post(p.url, { ssn: '123-45-6789', card: { number: '4111', exp: '12/30' }, amount: 5 });
  const [rec] = await p.stopAndRead();
  const { createHmac } = await import('node:crypto');
  assert.equal(rec!.unit, createHmac('sha256', 'pepper').update('u-1').digest('hex').slice(0, 32));
  assert.deepEqual(rec!.request, { ssn: '[REDACTED]', card: { number: '[REDACTED]', exp: '12/30' }, amount: 5 });
  assert.deepEqual(rec!.response, { score: 0.8 });

  const p2 = await startProxy(testConfig(ch.url, cl.url, tempDir(), { logging: { dir: tempDir(), unit: 'omit' } }));
  await post(p2.url, {});
  const [rec2] = await p2.stopAndRead();
  assert.equal('unit' in rec2!, false);
});

test('shadowLimit: shadow calls beyond the limit are skipped and counted', async (t) => {
  const [ch, cl] = await upstreams(t, scoreBehaviour(0.8), scoreBehaviour(0.3, 300));
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), { traffic: { shadowLimit: 2 } }));
  const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => post(p.url, {}, { 'x-user-id': `u-${i}` })));
  assert.ok(rs.every((r) => r.status === 200));
  const status = await (await request(p.adminUrl + '/status')).body.json() as any;
  assert.equal(status.counters.shadowSkipped, 4);
  const recs = await p.stopAndRead();
  assert.equal(recs.length, 6);
  assert.equal(recs.filter((r) => r.challenger.error?.kind === 'skipped').length, 4);
  assert.equal(cl.received.length, 2);
});

test('pass-through: other routes go to the champion unchanged, with x-request-id only', async (t) => {
  const [ch, cl] = await upstreams(t, (req, res) => { res.writeHead(201, { 'content-type': 'text/plain' }); res.end(`${req.method} ${req.url}`); });
  const p = await startProxy(testConfig(ch.url + '/base', cl.url, tempDir()));
  const r = await request(p.url + '/health?x=1', { method: 'GET' });
  assert.equal(r.statusCode, 201);
  assert.equal(await r.body.text(), 'GET /base/health?x=1');
  assert.ok(r.headers['x-request-id']);
  assert.equal(r.headers['x-ccrouter-group'], undefined);
  const recs = await p.stopAndRead();
  assert.equal(recs.length, 0, 'no pair record for pass-through');
  assert.equal(cl.received.length, 0);
});

test('HTTP/1.0 with Transfer-Encoding answers 400', async (t) => {
  const [ch, cl] = await upstreams(t);
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir()));
  t.after(() => p.shutdown());
  const { port } = new URL(p.url);
  const text = await new Promise<string>((resolve) => {
    const s = net.connect(Number(port), '127.0.0.1', () => {
      s.end('POST /predict HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n');
    });
    let buf = '';
    s.on('data', (d) => (buf += d));
    s.on('close', () => resolve(buf));
  });
  assert.match(text, /^HTTP\/1\.[01] 400/);
  assert.equal(ch.received.length + cl.received.length, 0);
});
