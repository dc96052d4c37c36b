/**
 * Model-specific calls through a running proxy against real model servers on 127.0.0.1: each
 * model's own path, headers and trusted CA, and the bound on a model's answer (limits.responseBytes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { loadConfigObject } from '../../src/config/load.js';
import { startProxy, tempDir, testConfig, type TestProxy } from '../helpers/proxy.js';
import { hasOpenssl, makeCertificates, startHttpsUpstream } from '../helpers/tls.js';
import { scoreBehaviour, startUpstream, type Behaviour, type Upstream } from '../helpers/upstream.js';

type T = { after(fn: () => unknown): void };

async function upstream(t: T, b: Behaviour): Promise<Upstream> {
  const u = await startUpstream(b);
  t.after(() => u.close());
  return u;
}

async function proxy(t: T, raw: Record<string, unknown>, env?: NodeJS.ProcessEnv): Promise<TestProxy> {
  const p = await startProxy(raw, env);
  t.after(() => p.shutdown());
  return p;
}

async function post(p: TestProxy, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  const res = await request(p.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user-id': 'u-1', ...headers }, body: '{"x":1}' });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text === '' ? null : JSON.parse(text) };
}

const ALL_CHALLENGER = { control: 0, challenger: 1, shadow: true };
const ALL_CHAMPION = { control: 0, challenger: 0, shadow: true };

test('a challenger whose model server puts its name in the path is called on its own path (models.challenger.paths), query kept', async (t) => {
  const ch = await upstream(t, scoreBehaviour(0.8));
  const cl = await upstream(t, scoreBehaviour(0.3));
  const dir = tempDir();
  const p = await proxy(t, testConfig(ch.url, cl.url + '/serving', dir, {
    models: {
      champion: { url: ch.url, version: 'v-champ' },
      challenger: { url: cl.url + '/serving', version: 'v-chall', paths: { '/v2/models/fraud/infer': '/v2/models/fraud-v8/infer' } },
    },
    routes: [{ path: '/v2/models/fraud/infer', score: '/score' }, { path: '/predict', score: '/score' }],
    traffic: ALL_CHAMPION,
  }));
  assert.equal((await post(p, '/v2/models/fraud/infer?trace=1')).status, 200);
  assert.equal((await post(p, '/predict')).status, 200);
  const records = await p.stopAndRead();
  assert.deepEqual(ch.received.map((r) => r.url), ['/v2/models/fraud/infer?trace=1', '/predict']);
  // A route the model has no path for keeps the scored path (after the URL's prefix).
  assert.deepEqual(cl.received.map((r) => r.url), ['/serving/v2/models/fraud-v8/infer?trace=1', '/serving/predict']);
  assert.equal(records.length, 2);
  for (const r of records) assert.equal(r.challenger.score, 0.3);
});

test('models.<role>.headers: the challenger gets its own credentials and none of the caller\'s cookie or API key, served or shadow; the champion gets the caller\'s', async (t) => {
  const ch = await upstream(t, scoreBehaviour(0.8));
  const cl = await upstream(t, scoreBehaviour(0.3));
  const caller = { authorization: 'Bearer caller', cookie: 'session=abc', 'x-api-key': 'k-caller', 'x-tenant': 't1' };
  for (const traffic of [ALL_CHAMPION, ALL_CHALLENGER]) {
    const p = await proxy(t, testConfig(ch.url, cl.url, tempDir(), {
      models: {
        champion: { url: ch.url, version: 'v-champ' },
        challenger: { url: cl.url, version: 'v-chall', headers: { Authorization: 'Bearer ${CHALLENGER_TOKEN}', cookie: null, 'X-Api-Key': null, 'x-model-name': 'fraud-v8' } },
      },
      traffic,
    }), { CCROUTER_TEST_TOKEN: 'secret-token', CHALLENGER_TOKEN: 'chall-token' });
    assert.equal((await post(p, '/predict', caller)).status, 200);
    await p.shutdown();
  }
  assert.equal(ch.received.length, 2);
  assert.equal(cl.received.length, 2);
  for (const r of ch.received) {
    assert.equal(r.headers.authorization, 'Bearer caller');
    assert.equal(r.headers.cookie, 'session=abc');
    assert.equal(r.headers['x-api-key'], 'k-caller');
    assert.equal(r.headers['x-model-name'], undefined);
  }
  const roles = cl.received.map((r) => r.headers['x-ccrouter-role']).sort();
  assert.deepEqual(roles, ['served', 'shadow']);
  for (const r of cl.received) {
    // Set once, the caller's value replaced (not a second authorization header).
    assert.deepEqual(r.rawHeaders.filter((_, i) => i % 2 === 0 && r.rawHeaders[i]!.toLowerCase() === 'authorization').length, 1);
    assert.equal(r.headers.authorization, 'Bearer chall-token');
    assert.equal(r.headers.cookie, undefined);
    assert.equal(r.headers['x-api-key'], undefined);
    assert.equal(r.headers['x-tenant'], 't1');
    assert.equal(r.headers['x-model-name'], 'fraud-v8');
  }
});

test('models.champion.headers apply to pass-through calls too (every call to the model)', async (t) => {
  const ch = await upstream(t, scoreBehaviour(0.8));
  const cl = await upstream(t, scoreBehaviour(0.3));
  const p = await proxy(t, testConfig(ch.url, cl.url, tempDir(), {
    models: { champion: { url: ch.url, version: 'v-champ', headers: { authorization: 'Bearer champ', cookie: null } }, challenger: { url: cl.url, version: 'v-chall' } },
  }));
  const res = await request(p.url + '/health', { headers: { authorization: 'Bearer caller', cookie: 'a=b', 'x-keep': '1' } });
  await res.body.dump();
  assert.equal(res.statusCode, 200);
  const got = ch.received.at(-1)!;
  assert.equal(got.url, '/health');
  assert.equal(got.headers.authorization, 'Bearer champ');
  assert.equal(got.headers.cookie, undefined);
  assert.equal(got.headers['x-keep'], '1');
});

test('an https challenger with a private CA: refused without models.challenger.ca, scored with it (real TLS on 127.0.0.1)', { skip: hasOpenssl() ? false : 'openssl is not installed' }, async (t) => {
  const certs = makeCertificates();
  const ch = await upstream(t, scoreBehaviour(0.8));
  const cl = await startHttpsUpstream(certs, scoreBehaviour(0.3));
  t.after(() => cl.close());

  const without = await proxy(t, testConfig(ch.url, cl.url, tempDir(), { traffic: ALL_CHAMPION }));
  assert.equal((await post(without, '/predict')).status, 200);
  const [r1] = await without.stopAndRead();
  assert.equal(r1!.challenger.error?.kind, 'connect');
  assert.match(r1!.challenger.error.message, /certificate/i);
  assert.equal(cl.received.length, 0);

  const withCa = await proxy(t, testConfig(ch.url, cl.url, tempDir(), {
    models: { champion: { url: ch.url, version: 'v-champ' }, challenger: { url: cl.url, version: 'v-chall', ca: certs.caFile } },
    traffic: ALL_CHALLENGER,
  }));
  const answer = await post(withCa, '/predict');
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.body, { score: 0.3 });
  assert.equal(answer.headers['x-ccrouter-model'], 'v-chall');
  const [r2] = await withCa.stopAndRead();
  assert.equal(r2!.challenger.error, null);
  assert.equal(r2!.challenger.score, 0.3);
  assert.equal(cl.received.length, 1);
});

/** Answers a JSON body of `bytes` bytes with a score, sent in 16 KiB chunks without a content-length. */
function bigAnswer(bytes: number): Behaviour {
  return async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const body = Buffer.from(JSON.stringify({ score: 0.3, pad: 'x'.repeat(Math.max(0, bytes - 30)) }));
    for (let i = 0; i < body.length; i += 16_384) {
      if (!res.write(body.subarray(i, i + 16_384))) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  };
}

/** Sends 16 KiB chunks until the connection is closed: an answer without end. */
const endless: Behaviour = async (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  const chunk = Buffer.alloc(16_384, 0x20);
  while (!res.destroyed) {
    if (res.write(chunk)) continue;
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }
};

test('a served challenger answer over limits.responseBytes answers 502 upstream_too_large and is recorded as too_large (fallback: none)', async (t) => {
  const ch = await upstream(t, scoreBehaviour(0.8));
  const cl = await upstream(t, bigAnswer(200_000));
  const p = await proxy(t, testConfig(ch.url, cl.url, tempDir(), { limits: { responseBytes: '64k' }, traffic: ALL_CHALLENGER, fallback: 'none' }));
  const res = await post(p, '/predict', { 'x-request-id': 'big-1' });
  assert.equal(res.status, 502);
  assert.equal(res.body.error, 'upstream_too_large');
  assert.equal(res.body.model, 'v-chall');
  assert.equal(res.body.requestId, 'big-1');
  assert.match(res.body.message, /limits\.responseBytes \(65536 bytes\)/);
  const [r] = await p.stopAndRead();
  assert.equal(r!.challenger.error.kind, 'too_large');
  assert.equal(r!.challenger.score, null);
  assert.equal(r!.champion.error, null);
  assert.equal(r!.champion.score, 0.8);
});

test('a served challenger answer over limits.responseBytes falls back to the champion (fallback: champion)', async (t) => {
  const ch = await upstream(t, scoreBehaviour(0.8));
  const cl = await upstream(t, bigAnswer(200_000));
  const p = await proxy(t, testConfig(ch.url, cl.url, tempDir(), { limits: { responseBytes: '64k' }, traffic: ALL_CHALLENGER }));
  const res = await post(p, '/predict');
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { score: 0.8 });
  assert.equal(res.headers['x-ccrouter-fallback'], '1');
  const [r] = await p.stopAndRead();
  assert.equal(r!.fallback, true);
  assert.equal(r!.challenger.error.kind, 'too_large');
});

test('a shadow answer over limits.responseBytes is recorded as too_large and changes nothing else', async (t) => {
  const ch = await upstream(t, scoreBehaviour(0.8));
  const cl = await upstream(t, bigAnswer(200_000));
  const p = await proxy(t, testConfig(ch.url, cl.url, tempDir(), { limits: { responseBytes: '64k' }, traffic: ALL_CHAMPION }));
  const res = await post(p, '/predict');
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { score: 0.8 });
  assert.equal(res.headers['x-ccrouter-fallback'], undefined);
  const [r] = await p.stopAndRead();
  assert.equal(r!.served, 'champion');
  assert.equal(r!.fallback, false);
  assert.equal(r!.champion.error, null);
  assert.equal(r!.challenger.error.kind, 'too_large');
});

test('an answer that never ends is cut at limits.responseBytes as it streams, not at the model timeout', async (t) => {
  const ch = await upstream(t, scoreBehaviour(0.8));
  const cl = await upstream(t, endless);
  // A timeout far beyond the test's life: only the byte bound can end the call.
  const p = await proxy(t, testConfig(ch.url, cl.url, tempDir(), {
    models: { champion: { url: ch.url, version: 'v-champ' }, challenger: { url: cl.url, version: 'v-chall', timeoutMs: '1h' } },
    limits: { responseBytes: '256k' },
    traffic: ALL_CHALLENGER,
    fallback: 'none',
  }));
  const res = await post(p, '/predict');
  assert.equal(res.status, 502);
  assert.equal(res.body.error, 'upstream_too_large');
  const [r] = await p.stopAndRead();
  assert.equal(r!.challenger.error.kind, 'too_large');
});

test('a declared content-length over limits.responseBytes fails the call before the body is read', async (t) => {
  const ch = await upstream(t, scoreBehaviour(0.8));
  // Declares 100 MB, sends 10 bytes and stalls: only the declaration can fail the call.
  const cl = await upstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(100_000_000) });
    res.write('{"score": ');
  });
  const p = await proxy(t, testConfig(ch.url, cl.url, tempDir(), {
    models: { champion: { url: ch.url, version: 'v-champ' }, challenger: { url: cl.url, version: 'v-chall', timeoutMs: '1h' } },
    traffic: ALL_CHALLENGER,
    fallback: 'none',
  }));
  const res = await post(p, '/predict');
  assert.equal(res.status, 502);
  assert.equal(res.body.error, 'upstream_too_large');
  assert.match(res.body.message, /16777216 bytes/);
});

test('a reload that changes a model\'s headers or paths applies to the next requests (a new pool for the new settings)', async (t) => {
  const ch = await upstream(t, scoreBehaviour(0.8));
  const cl = await upstream(t, scoreBehaviour(0.3));
  const raw = (headers: Record<string, string | null>, paths?: Record<string, string>) => testConfig(ch.url, cl.url, tempDir(), {
    models: { champion: { url: ch.url, version: 'v-champ' }, challenger: { url: cl.url, version: 'v-chall', headers, ...(paths ? { paths } : {}) } },
    traffic: ALL_CHAMPION,
  });
  const p = await proxy(t, raw({ authorization: 'Bearer one' }));
  assert.equal((await post(p, '/predict')).status, 200);
  p.runtime.loadFileConfig(loadConfigObject(raw({ authorization: 'Bearer two' }, { '/predict': '/v2/predict' })));
  assert.equal((await post(p, '/predict')).status, 200);
  await p.shutdown();
  assert.deepEqual(cl.received.map((r) => [r.url, r.headers.authorization]), [['/predict', 'Bearer one'], ['/v2/predict', 'Bearer two']]);
});
