import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { request } from 'undici';
import { readJsonl, scoredProxy, tempDir, type TestProxy } from '../helpers/proxy.js';

const TOKEN = 'secret-token';

const setup = scoredProxy;

async function admin(p: TestProxy, method: string, url: string, body?: string, auth?: string) {
  const headers: Record<string, string> = {};
  if (auth !== undefined) headers.authorization = auth;
  const res = await request(p.adminUrl + url, { method: method as 'POST', headers, body });
  const text = await res.body.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.statusCode, headers: res.headers, text, json };
}

async function scored(p: TestProxy, user: string) {
  const res = await request(p.url + '/predict', { method: 'POST', headers: { 'x-user-id': user }, body: '{}' });
  await res.body.text();
  return res;
}

test('GET /status: mode, config id, fractions, counters, guardrails, ramp', async (t) => {
  const { p } = await setup(t, { traffic: { control: 0.1, challenger: 0.2 } });
  await scored(p, 'u-1');
  const s = await admin(p, 'GET', '/status');
  assert.equal(s.status, 200);
  assert.equal(s.json.mode, 'normal');
  assert.equal(s.json.config, p.runtime.snapshot.id);
  assert.deepEqual(s.json.traffic, { control: 0.1, challenger: 0.2 });
  assert.equal(s.json.shadow, true);
  const c = s.json.counters;
  assert.equal(c.requests.control + c.requests.champion + c.requests.challenger, 1);
  assert.equal(c.shadowSkipped, 0);
  assert.equal(c.fallbacks, 0);
  assert.equal(c.logWriteErrors, 0);
  assert.deepEqual(s.json.guardrails, { tripped: false, rule: null });
  assert.deepEqual(s.json.ramp, { step: null, next: null });
});

test('token calls: missing, wrong, wrong-length, other scheme → 401; right token, any scheme case → 200', async (t) => {
  const { p } = await setup(t);
  for (const auth of [undefined, 'Bearer nope', `Bearer ${TOKEN}x`, 'Bearer ', `Basic ${TOKEN}`, TOKEN, `Bearer  ${'a'.repeat(5000)}`]) {
    const r = await admin(p, 'POST', '/rollback', '', auth);
    assert.equal(r.status, 401, `authorization ${JSON.stringify(auth?.slice(0, 30))}`);
  }
  assert.equal((await admin(p, 'GET', '/status')).json.traffic.challenger, 0, 'nothing changed');
  assert.equal((await admin(p, 'POST', '/bypass', '{"on":false}', `bearer ${TOKEN}`)).status, 200);
  assert.equal((await admin(p, 'POST', '/bypass', '{"on":false}', `BEARER ${TOKEN}`)).status, 200);
});

test('a non-ASCII token answers 401, never 500', async (t) => {
  const { p } = await setup(t);
  const { port } = new URL(p.adminUrl!);
  const text = await new Promise<string>((resolve) => {
    const s = net.connect(Number(port), '127.0.0.1', () => {
      s.write(Buffer.concat([Buffer.from('POST /rollback HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\nAuthorization: Bearer '), Buffer.from([0xc3, 0xa9, 0xff]), Buffer.from('\r\n\r\n')]));
    });
    let buf = '';
    s.on('data', (d) => (buf += d));
    s.on('close', () => resolve(buf));
  });
  assert.match(text, /^HTTP\/1\.1 401/);
});

test('no token configured: token calls answer 403', async (t) => {
  const { p } = await setup(t, {}, {});
  const r = await admin(p, 'POST', '/rollback', '', 'Bearer anything');
  assert.equal(r.status, 403);
  assert.equal((await admin(p, 'POST', '/outcomes', '{"unit":"u","label":1}', 'Bearer anything')).status, 403);
});

test('GET (or PUT) on a mutation answers 405 with Allow: POST', async (t) => {
  const { p } = await setup(t);
  for (const url of ['/bypass', '/rollback', '/outcomes']) {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const r = await admin(p, method, url);
      assert.equal(r.status, 405, `${method} ${url}`);
      assert.equal(r.headers.allow, 'POST');
    }
  }
});

test('bypass: scored routes pass through to the champion, no shadow, no record; off restores', async (t) => {
  const { p, ch, cl } = await setup(t, { traffic: { challenger: 1 } });
  const idBefore = p.runtime.snapshot.id;
  const on = await admin(p, 'POST', '/bypass', '{"on": true}', `Bearer ${TOKEN}`);
  assert.equal(on.status, 200);
  assert.equal(on.json.mode, 'bypass');
  assert.notEqual(on.json.config, idBefore, 'a runtime change yields a new id');
  const r = await scored(p, 'u-1');
  assert.equal(r.statusCode, 200);
  assert.equal(r.headers['x-ccrouter-group'], undefined);
  assert.ok(r.headers['x-request-id']);
  assert.equal(ch.received.length, 1);
  assert.equal(cl.received.length, 0);
  const off = await admin(p, 'POST', '/bypass', '{"on": false}', `Bearer ${TOKEN}`);
  assert.equal(off.json.mode, 'normal');
  assert.equal(off.json.config, idBefore, 'back to the same effective config');
  const r2 = await scored(p, 'u-1');
  assert.equal(r2.headers['x-ccrouter-group'], 'challenger');
  assert.equal((await admin(p, 'POST', '/bypass', '{"on": "yes"}', `Bearer ${TOKEN}`)).status, 400);
  await p.shutdown();
  const records = readJsonl(path.join(p.dir, 'pairs.jsonl'));
  assert.equal(records.length, 1, 'only the request served outside bypass has a record');
  const events = readJsonl(path.join(p.dir, 'events.jsonl'));
  const bypass = events.filter((e) => e.type === 'bypass');
  assert.deepEqual(bypass.map((e) => [e.on, e.source]), [[true, 'admin'], [false, 'admin']]);
  assert.equal(bypass[0]!.config, on.json.config);
});

test('rollback: challenger fraction 0 until the next config load, announced by its event', async (t) => {
  const { p } = await setup(t, { traffic: { control: 0.1, challenger: 1 - 0.1 } });
  const before = p.runtime.snapshot.id;
  const r = await admin(p, 'POST', '/rollback', '', `Bearer ${TOKEN}`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.traffic, { control: 0.1, challenger: 0 });
  assert.notEqual(r.json.config, before);
  for (let i = 0; i < 20; i++) assert.notEqual((await scored(p, `u-${i}`)).headers['x-ccrouter-group'], 'challenger');
  await p.shutdown();
  const events = readJsonl(path.join(p.dir, 'events.jsonl'));
  const rb = events.find((e) => e.type === 'rollback');
  assert.deepEqual([rb!.source, rb!.config, rb!.traffic], ['admin', r.json.config, { control: 0.1, challenger: 0 }]);
  const records = readJsonl(path.join(p.dir, 'pairs.jsonl'));
  assert.ok(records.every((x) => x.config === r.json.config));
});

test('POST /outcomes: object, array and NDJSON; bad items rejected by index; appended to outcomes.jsonl', async (t) => {
  const { p } = await setup(t);
  const auth = `Bearer ${TOKEN}`;
  const one = await admin(p, 'POST', '/outcomes', '{"requestId":"r-1","label":1}', auth);
  assert.deepEqual(one.json, { accepted: 1, rejected: [] });
  const arr = await admin(p, 'POST', '/outcomes', JSON.stringify([{ unit: 'u-1', label: true }, { label: 1 }, { requestId: 'r-2', label: 2 }, { requestId: 'r-3', label: false, extra: 'x' }]), auth);
  assert.equal(arr.json.accepted, 2);
  assert.deepEqual(arr.json.rejected.map((r: { index: number }) => r.index), [1, 2]);
  assert.match(arr.json.rejected[1].error, /label/);
  const nd = await admin(p, 'POST', '/outcomes', '{"requestId":"r-4","label":0}\n\nnot json\n{"unit":"u-2","label":1}\n', auth);
  assert.deepEqual(nd.json.accepted, 2);
  assert.deepEqual(nd.json.rejected, [{ index: 1, error: 'not valid JSON' }]);
  assert.equal((await admin(p, 'POST', '/outcomes', '  \n', auth)).status, 400);
  await p.shutdown();
  const lines = readJsonl(path.join(p.dir, 'outcomes.jsonl'));
  assert.deepEqual(lines.map(({ requestId, unit, label, msg }) => ({ requestId, unit, label, msg })), [
    { requestId: 'r-1', unit: undefined, label: 1, msg: 'outcome' },
    { requestId: undefined, unit: 'u-1', label: 1, msg: 'outcome' },
    { requestId: 'r-3', unit: undefined, label: 0, msg: 'outcome' },
    { requestId: 'r-4', unit: undefined, label: 0, msg: 'outcome' },
    { requestId: undefined, unit: 'u-2', label: 1, msg: 'outcome' },
  ]);
  assert.ok(lines.every((l) => !('extra' in l)));
});

test('POST /outcomes: units are hashed under logging.unit hash; a body over 16 MiB answers 413', async (t) => {
  const { p } = await setup(t, { assignment: { unit: 'header:x-user-id', salt: 'pepper' }, logging: { dir: tempDir(), unit: 'hash' } });
  const auth = `Bearer ${TOKEN}`;
  await admin(p, 'POST', '/outcomes', '{"unit":"u-1","label":1}', auth);
  const big = await admin(p, 'POST', '/outcomes', 'x'.repeat(16 * 1024 * 1024 + 10), auth);
  assert.equal(big.status, 413);
  await p.shutdown();
  const [line] = readJsonl(path.join(p.dir, 'outcomes.jsonl'));
  const { hashUnit } = await import('../../src/records/pair.js');
  assert.equal(line!.unit, hashUnit('u-1', 'pepper'));
});

test('POST /outcomes: batches posted at once are each written whole, and are in the file when answered', async (t) => {
  const { p } = await setup(t);
  const auth = `Bearer ${TOKEN}`;
  const batch = (k: number) => Array.from({ length: 20_000 }, (_, i) => `{"unit":"b${k}-${i}","label":${i % 2}}`).join('\n');
  const answers = await Promise.all([0, 1, 2].map((k) => admin(p, 'POST', '/outcomes', batch(k), auth)));
  assert.deepEqual(answers.map((a) => a.json), [0, 1, 2].map(() => ({ accepted: 20_000, rejected: [] })));
  const lines = readJsonl(path.join(p.dir, 'outcomes.jsonl'));
  assert.equal(lines.length, 60_000, 'every line is in the file before shutdown');
  const runs: string[] = [];
  for (const l of lines) {
    const b = String(l.unit).split('-')[0]!;
    if (runs.at(-1) !== b) runs.push(b);
  }
  assert.equal(runs.length, 3, `each batch's lines stay together: ${runs.join(' ')}`);
  for (const k of [0, 1, 2]) {
    const units = lines.filter((l) => String(l.unit).startsWith(`b${k}-`)).map((l) => l.unit);
    assert.deepEqual(units, Array.from({ length: 20_000 }, (_, i) => `b${k}-${i}`), 'in order');
  }
});

test('the public listener has no admin routes: /status and /rollback are passed through', async (t) => {
  const { p, ch } = await setup(t);
  const r = await request(p.url + '/rollback', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '' });
  await r.body.text();
  assert.equal(ch.received.at(-1)!.url, '/rollback');
  assert.equal((await admin(p, 'GET', '/status')).json.traffic.challenger, 0);
  const s = await request(p.url + '/status');
  assert.deepEqual(await s.body.json(), { score: 0.8 }, 'the champion answered');
});

test('with passthrough off, admin paths on the public listener answer 404', async (t) => {
  const { p, ch } = await setup(t, { passthrough: false });
  for (const [method, url] of [['GET', '/status'], ['GET', '/metrics'], ['POST', '/rollback'], ['POST', '/bypass'], ['POST', '/outcomes']] as const) {
    const r = await request(p.url + url, { method, headers: { authorization: `Bearer ${TOKEN}` }, body: method === 'POST' ? '{"on":true}' : undefined });
    assert.equal(r.statusCode, 404, `${method} ${url}`);
    await r.body.text();
  }
  assert.equal(ch.received.length, 0);
  assert.equal((await admin(p, 'GET', '/status')).json.mode, 'normal');
});

test('GET /metrics: Prometheus text whose counters match the traffic sent', async (t) => {
  const { p } = await setup(t, { traffic: { control: 0.2, challenger: 0.3 } });
  const groups = { control: 0, champion: 0, challenger: 0 } as Record<string, number>;
  for (let i = 0; i < 40; i++) groups[String((await scored(p, `u-${i}`)).headers['x-ccrouter-group'])]++;
  await new Promise((r) => setTimeout(r, 100)); // records are written once both calls are done
  const m = await admin(p, 'GET', '/metrics');
  assert.equal(m.status, 200);
  assert.match(String(m.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const samples = parseExposition(m.text);
  for (const g of ['control', 'champion', 'challenger']) {
    const served = g === 'challenger' ? 'challenger' : 'champion';
    assert.equal(samples.get(`ccrouter_requests_total{route="POST /predict",group="${g}",served="${served}"}`) ?? 0, groups[g], g);
  }
  assert.equal(samples.get('ccrouter_upstream_duration_seconds_count{model="champion"}'), 40);
  assert.equal(samples.get('ccrouter_upstream_duration_seconds_count{model="challenger"}'), 40);
  assert.equal(samples.get('ccrouter_decisions_total{model="champion",decision="true"}'), 40);
  assert.equal(samples.get('ccrouter_decisions_total{model="challenger",decision="false"}'), 40);
  assert.equal(samples.get('ccrouter_agreement_total{agree="false"}'), 40);
  assert.equal(samples.get('ccrouter_score_count{model="champion"}'), 40);
  assert.equal(samples.get('ccrouter_traffic_fraction{group="challenger"}'), 0.3);
  assert.equal(samples.get('ccrouter_shadow_skipped_total'), 0);
  assert.equal(samples.get('ccrouter_log_write_errors_total'), 0);
  assert.ok(!/u-\d+/.test(m.text), 'no unit key in any label');
});

/** Parse Prometheus text exposition strictly enough to catch malformed lines. */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?[0-9.eE+-]+|NaN|[+-]Inf)$/.exec(line);
    assert.ok(m, `malformed exposition line: ${line}`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

test('regression: GET /metrics before any reload or trip exports the reload and guardrail-trip counters of every label value at 0', async (t) => {
  const { p } = await setup(t, { guardrails: { window: 100, minSamples: 50, maxErrorRate: 0.5 } });
  const m = await admin(p, 'GET', '/metrics');
  assert.equal(m.status, 200);
  for (const result of ['loaded', 'rejected']) assert.match(m.text, new RegExp(`^ccrouter_config_reloads_total\\{result="${result}"\\} 0$`, 'm'));
  for (const rule of ['error_rate', 'latency_p99_ratio', 'decision_rate_ratio', 'score_psi']) {
    assert.match(m.text, new RegExp(`^ccrouter_guardrail_trips_total\\{rule="${rule}"\\} 0$`, 'm'));
  }
});
