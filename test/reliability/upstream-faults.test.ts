/**
 * Upstream faults: whatever the challenger does, the caller gets the champion's answer at the
 * champion's pace; champion failures map to 502/504 with the record saying why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { Client, request } from 'undici';
import { closedPort, scoreBehaviour, startUpstream, type Behaviour } from '../helpers/upstream.js';
import { readJsonl, startProxy, tempDir, testConfig } from '../helpers/proxy.js';
import { rawUpstream } from '../helpers/raw.js';


async function post(url: string, user = 'u-1') {
  const t0 = performance.now();
  const res = await request(url + '/predict', { method: 'POST', headers: { 'x-user-id': user }, body: '{}' });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, ms: performance.now() - t0 };
}

const challengerFaults: Array<[string, (socket: net.Socket) => void, string]> = [
  ['never sends headers', () => undefined, 'timeout'],
  ['resets mid-body', (s) => { s.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"sco'); setTimeout(() => s.resetAndDestroy(), 20); }, 'connect'],
  ['closes without answering', (s) => s.destroy(), 'connect'],
  ['answers garbage instead of HTTP', (s) => { s.write('SSH-2.0-OpenSSH\r\n\r\n'); s.end(); }, 'connect'],
];

for (const [name, fault, kind] of challengerFaults) {
  test(`challenger ${name}: champion-served callers unaffected, challenger-served callers fall back`, async (t) => {
    const champion = await startUpstream(scoreBehaviour(0.8));
    t.after(() => champion.close());
    const challenger = await rawUpstream(t, (s) => fault(s));
    const p = await startProxy(testConfig(champion.url, challenger.url, tempDir(), {
      traffic: { challenger: 0.5 },
      models: { champion: { url: champion.url, version: 'v-champ', timeoutMs: 1000 }, challenger: { url: challenger.url, version: 'v-chall', timeoutMs: 300 } },
    }));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => post(p.url, `u-${i}`)));
    assert.ok(results.every((r) => r.status === 200), JSON.stringify(results.map((r) => r.status)));
    assert.ok(results.every((r) => r.headers['x-ccrouter-model'] === 'v-champ'));
    const records = await p.stopAndRead();
    assert.equal(records.length, 20);
    for (const rec of records) {
      assert.equal(rec.challenger.error?.kind, kind, JSON.stringify(rec.challenger));
      assert.equal(rec.fallback, rec.group === 'challenger');
      assert.equal(rec.champion.score, 0.8);
    }
    assert.ok(records.some((r) => r.group === 'challenger') && records.some((r) => r.group !== 'challenger'));
  });
}

test('challenger 2 s slow on a keep-alive client connection: five sequential requests each come back at champion pace', { timeout: 30_000 }, async (t) => {
  const champion = await startUpstream(scoreBehaviour(0.8));
  let shadowsAnswered = 0;
  const challenger = await startUpstream(async (_req, res) => {
    await new Promise((r) => setTimeout(r, 2000).unref());
    shadowsAnswered++;
    res.end('{"score":0.3}');
  });
  t.after(() => champion.close());
  t.after(() => challenger.close());
  const p = await startProxy(testConfig(champion.url, challenger.url, tempDir(), {
    models: { champion: { url: champion.url, version: 'v-champ', timeoutMs: 1000 }, challenger: { url: challenger.url, version: 'v-chall', timeoutMs: 5000 } },
  }));
  t.after(() => p.shutdown());
  const client = new Client(p.url, { pipelining: 1 });
  t.after(() => client.close());
  for (let i = 0; i < 5; i++) {
    const res = await client.request({ method: 'POST', path: '/predict', headers: { 'x-user-id': 'same' }, body: '{}' });
    await res.body.text();
    assert.equal(res.statusCode, 200);
  }
  // Ordering, not wall clock: all five answers arrived before the first shadow call finished.
  assert.equal(shadowsAnswered, 0, 'an answer waited for a shadow call');
  assert.equal(challenger.received.length, 5, 'every request was still shadowed');
});

test('champion stalls: 504 at its deadline, the POST is not retried', async (t) => {
  const champion = await rawUpstream(t, () => undefined);
  const challenger = await startUpstream(scoreBehaviour(0.3));
  t.after(() => challenger.close());
  const p = await startProxy(testConfig(champion.url, challenger.url, tempDir(), {
    models: { champion: { url: champion.url, version: 'v-champ', timeoutMs: 300 }, challenger: { url: challenger.url, version: 'v-chall', timeoutMs: 1000 } },
  }));
  const r = await post(p.url);
  assert.equal(r.status, 504);
  assert.equal(JSON.parse(r.text).error, 'upstream_timeout');
  assert.equal(champion.requests(), 1, 'sent once, never retried');
  const [rec] = await p.stopAndRead();
  assert.equal(rec!.champion.error.kind, 'timeout');
  assert.ok(rec!.champion.latencyMs >= 290);
});

test('champion answers a status outside 100-599: 502 upstream_connect, recorded, and the proxy goes on', async (t) => {
  const champion = await rawUpstream(t, (s, req) => {
    const status = /x-user-id: (\d+)/i.exec(req)![1];
    s.write(`HTTP/1.1 ${status} Odd\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"score":0.9}`);
  });
  const challenger = await startUpstream(scoreBehaviour(0.3));
  t.after(() => challenger.close());
  const p = await startProxy(testConfig(champion.url, challenger.url, tempDir(), { traffic: { challenger: 0 } }));
  const statuses = ['600', '700', '999', '099'];
  for (const status of statuses) {
    const r = await post(p.url, status);
    assert.equal(r.status, 502, `model status ${status}: ${r.text}`);
    assert.equal(JSON.parse(r.text).error, 'upstream_connect');
  }
  const ok = await post(p.url, '200');
  assert.equal(ok.status, 200, 'a valid status still passes');
  const recs = await p.stopAndRead();
  assert.equal(recs.length, statuses.length + 1);
  for (const rec of recs.slice(0, statuses.length)) {
    assert.equal(rec.champion.error.kind, 'connect', JSON.stringify(rec.champion));
    assert.equal(rec.champion.status, null);
  }
});

test('champion truncated body (bad Content-Length): 502 and the connection is not reused', async (t) => {
  const champion = await rawUpstream(t, (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"score":0.9}');
    setTimeout(() => s.end(), 20);
  });
  const challenger = await startUpstream(scoreBehaviour(0.3));
  t.after(() => challenger.close());
  const p = await startProxy(testConfig(champion.url, challenger.url, tempDir()));
  const r1 = await post(p.url);
  assert.equal(r1.status, 502);
  assert.equal(JSON.parse(r1.text).error, 'upstream_connect');
  const r2 = await post(p.url);
  assert.equal(r2.status, 502);
  assert.equal(champion.connections(), 2, 'a new connection for the second request');
  const recs = await p.stopAndRead();
  assert.ok(recs.every((r) => r.champion.error.kind === 'connect'));
});

test('champion refused and challenger fine on a challenger-served request with fallback: 200 from the challenger', async (t) => {
  const challenger = await startUpstream(scoreBehaviour(0.3));
  t.after(() => challenger.close());
  const p = await startProxy(testConfig(await closedPort(), challenger.url, tempDir(), { traffic: { challenger: 1 } }));
  const r = await post(p.url);
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-ccrouter-model'], 'v-chall');
  const [rec] = await p.stopAndRead();
  assert.equal(rec!.champion.error.kind, 'connect');
  assert.equal(rec!.fallback, false);
});

test('both fail on a challenger-served request: the champion 502 is sent with x-ccrouter-fallback: 1', async (t) => {
  const challenger = await startUpstream((_r, res) => { res.writeHead(500); res.end(); });
  t.after(() => challenger.close());
  const p = await startProxy(testConfig(await closedPort(), challenger.url, tempDir(), { traffic: { challenger: 1 } }));
  const r = await post(p.url);
  assert.equal(r.status, 502);
  assert.equal(r.headers['x-ccrouter-fallback'], '1');
  assert.equal(JSON.parse(r.text).model, 'v-champ');
  await p.shutdown();
});

test('regression: a client abort mid-flight fell through to pass-through — both calls canceled, sockets released, record written, nothing passed through', async (t) => {
  let open = 0;
  const slow: Behaviour = async (_req, res) => {
    open++;
    // The upstream connection closing is what canceling an HTTP/1.1 request means.
    res.socket!.once('close', () => open--);
    await new Promise((r) => setTimeout(r, 3000).unref());
    if (!res.destroyed) res.end('{"score":0.5}');
  };
  const champion = await startUpstream(slow);
  const challenger = await startUpstream(slow);
  t.after(() => champion.close());
  t.after(() => challenger.close());
  const p = await startProxy(testConfig(champion.url, challenger.url, tempDir(), {
    models: { champion: { url: champion.url, version: 'v-champ', timeoutMs: 5000 }, challenger: { url: challenger.url, version: 'v-chall', timeoutMs: 5000 } },
  }));
  const req = http.request(p.url + '/predict', { method: 'POST', headers: { 'x-user-id': 'gone', 'content-length': 2 } });
  req.on('error', () => undefined);
  req.end('{}');
  while (champion.received.length === 0 || challenger.received.length === 0) await new Promise((r) => setTimeout(r, 10));
  req.destroy();
  for (let i = 0; i < 100 && open > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(open, 0, `both upstream requests were canceled (their sockets closed): inflight ${p.runtime.upstreamInflight}`);
  assert.equal(p.runtime.upstreamInflight, 0);
  const [rec] = await p.stopAndRead();
  assert.equal(rec!.error.kind, 'client_abort');
  assert.equal(rec!.champion.error.kind, 'canceled');
  assert.equal(rec!.challenger.error.kind, 'canceled');
  assert.equal(rec!.group, 'champion');
  assert.equal(champion.received.length, 1, 'regression: an aborted scored request was then passed through to the champion');
});

test('overload: a 5 s challenger under load never has more than shadowLimit shadows in flight; the rest are skipped and counted', { timeout: 30_000 }, async (t) => {
  let inflight = 0;
  let maxInflight = 0;
  const champion = await startUpstream(scoreBehaviour(0.8));
  const challenger = await startUpstream(async (_req, res) => {
    inflight++;
    maxInflight = Math.max(maxInflight, inflight);
    res.on('close', () => inflight--);
    await new Promise((r) => setTimeout(r, 5000).unref());
    if (!res.destroyed) res.end('{"score":0.1}');
  });
  t.after(() => champion.close());
  t.after(() => challenger.close());
  const p = await startProxy(testConfig(champion.url, challenger.url, tempDir(), {
    traffic: { shadowLimit: 16 },
    models: { champion: { url: champion.url, version: 'v-champ', timeoutMs: 1000 }, challenger: { url: challenger.url, version: 'v-chall', timeoutMs: 10_000 } },
    shutdownGraceMs: 200,
  }));
  const statuses: number[] = [];
  for (let round = 0; round < 10; round++) {
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => post(p.url, `u-${round}-${i}`)));
    statuses.push(...rs.map((r) => r.status));
  }
  assert.ok(statuses.every((s) => s === 200));
  assert.ok(maxInflight <= 16, `challenger saw ${maxInflight} concurrent shadow calls`);
  const status = (await (await request(p.adminUrl + '/status')).body.json()) as { counters: { shadowSkipped: number } };
  assert.equal(status.counters.shadowSkipped, 200 - 16);
  const records = await p.stopAndRead();
  assert.equal(records.length, 200);
  assert.equal(records.filter((r) => r.challenger.error?.kind === 'skipped').length, 200 - 16);
  assert.equal(records.filter((r) => r.challenger.error?.kind === 'canceled').length, 16, 'the 16 in flight were canceled at shutdown');
  const events = readJsonl(path.join(p.dir, 'events.jsonl'));
  assert.equal(events.at(-1)!.type, 'shutdown');
});
