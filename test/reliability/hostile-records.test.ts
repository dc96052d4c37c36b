/**
 * Hostile input against the records and the caches keyed by caller data: deeply nested or huge
 * values copied into a record, records that cannot be serialized, distinct huge unit keys, and
 * "__proto__" as a member name. Nothing a caller sends may crash the proxy, lose a record, or grow
 * its memory without bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dive } from '../helpers/nesting.js';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { stringify } from 'yaml';
import { bucketOf } from '../../src/assignment/bucket.js';
import { BODY_BOUND, FIELD_BOUND, TRUNCATED } from '../../src/records/bound.js';
import { hashUnit } from '../../src/records/pair.js';
import { mergePatch } from '../../src/routing/merge-patch.js';
import { scoreBehaviour, startUpstream, type Behaviour, type Upstream } from '../helpers/upstream.js';
import { readJsonl, startProxy, tempDir, testConfig } from '../helpers/proxy.js';
import { spawnCli, waitForLine } from '../helpers/cli.js';

/** `[[[...]]]` nested `n` deep, as JSON text (5 000 deep: 10 KB). */
const nestedText = (n: number) => '['.repeat(n) + ']'.repeat(n);

async function models(t: { after(fn: () => Promise<void>): void }, a: Behaviour = scoreBehaviour(0.8), b: Behaviour = scoreBehaviour(0.3)): Promise<[Upstream, Upstream]> {
  const ch = await startUpstream(a);
  const cl = await startUpstream(b);
  t.after(() => ch.close());
  t.after(() => cl.close());
  return [ch, cl];
}

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await request(url + '/predict', { method: 'POST', headers: { 'content-type': 'application/json', 'x-user-id': 'u-1', ...headers }, body });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

async function status(adminUrl: string): Promise<{ counters: { logWriteErrors: number } }> {
  return (await (await request(adminUrl + '/status')).body.json()) as { counters: { logWriteErrors: number } };
}

// --- 1. Deeply nested and huge values copied into records -------------------------------------

test('deeply nested logging.fields value (5 000 levels), normal models: 200 and a record, the value cut at the depth bound', async (t) => {
  const [ch, cl] = await models(t);
  const dir = tempDir();
  const p = await startProxy(testConfig(ch.url, cl.url, dir, { logging: { dir, fields: { deep: '/deep', country: '/country' } } }));
  t.after(() => p.shutdown());
  const r = await post(p.url, `{"country":"US","deep":${nestedText(5000)}}`, { 'x-request-id': 'deep-1' });
  assert.equal(r.status, 200);
  assert.equal((await status(p.adminUrl!)).counters.logWriteErrors, 0);
  const records = await p.stopAndRead();
  assert.equal(records.length, 1, 'the answered request has its record');
  const rec = records[0]!;
  assert.equal(rec.requestId, 'deep-1');
  assert.equal(rec.fields.country, 'US');
  assert.deepEqual(dive(rec.fields.deep), { depth: FIELD_BOUND.depth, bottom: TRUNCATED });
  assert.equal(rec.recordError, undefined, 'bounded, not degraded');
});

test('deeply nested field while the challenger times out or the client disconnects: ccrouter serve stays up and writes every record', { timeout: 60_000 }, async (t) => {
  const slowChampion: Behaviour = async (req, res) => {
    if (req.headers['x-slow'] !== undefined) await sleep(2000);
    await scoreBehaviour(0.8)(req, res);
  };
  const [ch, cl] = await models(t, slowChampion, scoreBehaviour(0.3, 1500));
  const dir = tempDir();
  const file = path.join(dir, 'c.yaml');
  const logs = path.join(dir, 'logs');
  const cfg = testConfig(ch.url, cl.url, logs, { logging: { dir: logs, fields: { deep: '/deep' } } }) as { models: Record<string, { timeoutMs: number }> };
  cfg.models.challenger!.timeoutMs = 200;
  cfg.models.champion!.timeoutMs = 5000;
  fs.writeFileSync(file, stringify(cfg));
  const child = spawnCli(['serve', '--config', file]);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const [, url] = await waitForLine(child, /serving on (http:\/\/\S+)/);
  const body = `{"deep":${nestedText(5000)}}`;

  // The challenger's timeout fires on a timer, after the caller has its answer: the record is written then.
  const a = await post(url!, body, { 'x-request-id': 'timed-out' });
  assert.equal(a.status, 200);
  await sleep(500);
  // A client gone before its answer: the record is written from the socket's close.
  await new Promise<void>((resolve) => {
    const { hostname, port } = new URL(url!);
    const req = http.request({ host: hostname, port, method: 'POST', path: '/predict', headers: { 'content-type': 'application/json', 'x-request-id': 'gone', 'x-slow': '1', 'content-length': Buffer.byteLength(body) } });
    req.on('error', () => resolve());
    req.end(body, () => setTimeout(() => { req.destroy(); resolve(); }, 300));
  });
  await sleep(300);
  const c = await post(url!, '{"deep":1}', { 'x-request-id': 'after' });
  assert.equal(c.status, 200, `still serving (${stderr})`);

  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.doesNotMatch(stderr, /uncaught|RangeError/);
  const records = readJsonl(path.join(logs, 'pairs.jsonl'));
  const byId = new Map(records.map((r) => [r.requestId, r]));
  assert.deepEqual([...byId.keys()].sort(), ['after', 'gone', 'timed-out']);
  assert.equal(byId.get('timed-out')!.challenger.error.kind, 'timeout');
  assert.deepEqual(dive(byId.get('timed-out')!.fields.deep), { depth: FIELD_BOUND.depth, bottom: TRUNCATED });
  assert.equal(byId.get('gone')!.error.kind, 'client_abort');
  assert.deepEqual(dive(byId.get('gone')!.fields.deep), { depth: FIELD_BOUND.depth, bottom: TRUNCATED });
  assert.equal(byId.get('after')!.fields.deep, 1);
});

test('logging.bodies with redact: request and response nested 5 000 deep are recorded bounded, redaction still applied', async (t) => {
  const deepAnswer: Behaviour = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`{"score":0.8,"deep":${nestedText(5000)}}`);
  };
  const [ch, cl] = await models(t, deepAnswer);
  const dir = tempDir();
  const p = await startProxy(testConfig(ch.url, cl.url, dir, { logging: { dir, bodies: true, redact: ['/ssn'] } }));
  t.after(() => p.shutdown());
  const r = await post(p.url, `{"ssn":"CANARY-SSN-31f9","__proto__":{"k":1},"deep":${nestedText(5000)}}`);
  assert.equal(r.status, 200);
  const records = await p.stopAndRead();
  assert.equal(records.length, 1);
  const rec = records[0]!;
  assert.equal(rec.request.ssn, '[REDACTED]');
  assert.deepEqual(dive(rec.request.deep), { depth: BODY_BOUND.depth - 1, bottom: TRUNCATED });
  assert.equal(rec.response.score, 0.8);
  assert.deepEqual(dive(rec.response.deep), { depth: BODY_BOUND.depth - 1, bottom: TRUNCATED });
  const text = fs.readFileSync(path.join(dir, 'pairs.jsonl'), 'utf8');
  assert.equal(text.includes('CANARY-SSN-31f9'), false);
  assert.ok(text.includes('"request":{"ssn":"[REDACTED]","__proto__":{"k":1},"deep":[['), 'a request member named __proto__ is recorded as a member');
});

test('huge values: a 200 000-element field, a 300 KB string field and a 3 MB body are cut at their size bounds with the marker', async (t) => {
  const [ch, cl] = await models(t);
  const dir = tempDir();
  const p = await startProxy(testConfig(ch.url, cl.url, dir, {
    // Megabytes to each model: a generous deadline keeps a loaded machine from turning this into a timeout test.
    models: { champion: { url: ch.url, version: 'v-champ', timeoutMs: 30_000 }, challenger: { url: cl.url, version: 'v-chall', timeoutMs: 30_000 } },
    limits: { bodyBytes: '4m' },
    logging: { dir, bodies: true, fields: { list: '/list', text: '/text' } },
  }));
  t.after(() => p.shutdown());
  const list = Array.from({ length: 200_000 }, (_, i) => i);
  const body = JSON.stringify({ list, text: 'w'.repeat(300_000), pad: 'p'.repeat(2_500_000) });
  const r = await post(p.url, body);
  assert.equal(r.status, 200);
  const records = await p.stopAndRead();
  assert.equal(records.length, 1);
  const rec = records[0]!;
  assert.equal(rec.fields.list.at(-1), TRUNCATED);
  assert.deepEqual(rec.fields.list.slice(0, 3), [0, 1, 2]);
  assert.ok(JSON.stringify(rec.fields.list).length <= FIELD_BOUND.chars + 20);
  assert.ok(rec.fields.text.endsWith(TRUNCATED));
  assert.ok(JSON.stringify(rec.fields.text).length <= FIELD_BOUND.chars);
  assert.ok(JSON.stringify(rec.request).length <= BODY_BOUND.chars + 100, `request ${JSON.stringify(rec.request).length} characters`);
  assert.ok(JSON.stringify(rec.request).includes(TRUNCATED));
  const line = fs.readFileSync(path.join(dir, 'pairs.jsonl'), 'utf8');
  assert.ok(line.length < BODY_BOUND.chars + 2 * FIELD_BOUND.chars + 4096, `line of ${line.length} characters`);
});

test('a record that cannot be serialized is written without the offending field, with recordError, and counted in logWriteErrors', async (t) => {
  const [ch, cl] = await models(t);
  const dir = tempDir();
  const stderrWrite = process.stderr.write.bind(process.stderr);
  const told: string[] = [];
  process.stderr.write = ((chunk: string) => { told.push(String(chunk)); return true; }) as typeof process.stderr.write;
  t.after(() => { process.stderr.write = stderrWrite; });
  const p = await startProxy(testConfig(ch.url, cl.url, dir, { logging: { dir, fields: { country: '/country' } } }));
  t.after(() => p.shutdown());
  assert.equal((await post(p.url, '{"country":"US"}', { 'x-request-id': 'before' })).status, 200);
  await sleep(100);
  // A record no bound was applied to (as a defect elsewhere could build): far too deep for JSON.stringify.
  const tooDeep = JSON.parse(nestedText(100_000)) as unknown;
  const rt = p.runtime;
  const v = rt.snapshot.config.models;
  const outcome = (version: string) => ({ version, status: 200, latencyMs: 1, score: 0.5, decision: true, error: null });
  assert.doesNotThrow(() => rt.recorder.write({
    requestId: 'unserializable', route: 'POST /predict', config: rt.snapshot.id, unit: 'u-9', assigned: 'key', bucket: 0.5,
    group: 'champion', served: 'champion', fallback: false, champion: outcome(v.champion.version), challenger: outcome(v.challenger.version),
    agree: true, fields: { country: 'DE', deep: tooDeep },
  }));
  assert.equal((await post(p.url, '{"country":"FR"}', { 'x-request-id': 'after' })).status, 200);
  await sleep(100);
  assert.equal((await status(p.adminUrl!)).counters.logWriteErrors, 1);
  const metrics = await (await request(p.adminUrl + '/metrics')).body.text();
  assert.match(metrics, /^ccrouter_log_write_errors_total 1$/m);
  const records = await p.stopAndRead();
  process.stderr.write = stderrWrite;
  assert.deepEqual(records.map((r) => r.requestId), ['before', 'unserializable', 'after']);
  const bad = records[1]!;
  assert.deepEqual(bad.fields, { country: 'DE' });
  assert.deepEqual(bad.recordError, { message: 'Maximum call stack size exceeded', dropped: ['fields.deep'] });
  assert.equal(bad.champion.score, 0.5);
  assert.equal(told.filter((l) => l.includes('could not be serialized')).length, 1);
});

// --- 2. Caches keyed by caller data -------------------------------------------------------------

const gc = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

test('distinct 1 MiB unit keys from the body are not cached: the heap does not grow with them, and each is assigned by the SPEC formula', { timeout: 60_000 }, async (t) => {
  const [ch, cl] = await models(t);
  const dir = tempDir();
  const salt = 'big-keys';
  const p = await startProxy(testConfig(ch.url, cl.url, dir, {
    assignment: { unit: 'body:/user', salt },
    limits: { bodyBytes: '2m' },
    traffic: { control: 0.2, challenger: 0.3 },
    logging: { dir, unit: 'hash' },
  }));
  t.after(() => p.shutdown());
  const n = 32;
  const keyOf = (i: number) => `k${i}-` + String.fromCharCode(97 + (i % 26)).repeat(1024 * 1024);
  await post(p.url, JSON.stringify({ user: 'warm-up' }));
  const before = heapAfterGc();
  for (let i = 0; i < n; i++) assert.equal((await post(p.url, JSON.stringify({ user: keyOf(i) }))).status, 200);
  // Every record written (both calls settled) before measuring.
  for (let i = 0; i < 50 && p.runtime.pendingRecords > 0; i++) await sleep(20);
  const grown = heapAfterGc() - before;
  // Before the fix each key stayed in the bucket and unit-hash caches: n MiB at least.
  assert.ok(grown < (n / 2) * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(1)} MiB over ${n} requests with 1 MiB keys`);
  t.diagnostic(`heap grew by ${(grown / 1048576).toFixed(1)} MiB over ${n} requests with distinct 1 MiB keys`);
  const records = (await p.stopAndRead()).slice(1);
  assert.equal(records.length, n);
  for (const i of [0, 1, 2]) {
    const rec = records[i]!;
    assert.equal(rec.bucket, bucketOf(salt, keyOf(i)));
    assert.equal(rec.unit, hashUnit(keyOf(i), salt));
    assert.equal(rec.assigned, 'key');
  }
});

// --- 8. "__proto__" is an ordinary member name --------------------------------------------------

test('mergePatch: a "__proto__" member is applied as a key (RFC 7396), at any level, and pollutes nothing', () => {
  const patch = JSON.parse('{"decision":"approve","__proto__":{"polluted":true},"nested":{"__proto__":"y","keep":null}}');
  const target = JSON.parse('{"score":0.9,"nested":{"keep":1,"other":2}}');
  const out = mergePatch(target, patch) as Record<string, any>;
  assert.equal(JSON.stringify(out), '{"score":0.9,"nested":{"other":2,"__proto__":"y"},"decision":"approve","__proto__":{"polluted":true}}');
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.equal(Object.getPrototypeOf(out.nested), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(out.polluted, undefined, 'not inherited either');
  assert.equal(JSON.stringify(target), '{"score":0.9,"nested":{"keep":1,"other":2}}', 'target not modified');
  // A "__proto__" member of the target is merged into and removed like any other.
  const owned = JSON.parse('{"__proto__":{"a":1,"b":2}}');
  assert.equal(JSON.stringify(mergePatch(owned, JSON.parse('{"__proto__":{"b":null,"c":3}}'))), '{"__proto__":{"a":1,"c":3}}');
  assert.equal(JSON.stringify(mergePatch(owned, JSON.parse('{"__proto__":null}'))), '{}');
  // A patch member that is not own in the target but is inherited (Object.prototype's) starts from nothing.
  assert.equal(JSON.stringify(mergePatch({}, JSON.parse('{"toString":{"x":1}}'))), '{"toString":{"x":1}}');
});

test('control.patch members named "__proto__" reach the caller as keys; a logging.fields name "__proto__" is recorded', async (t) => {
  const [ch, cl] = await models(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"score":0.9,"decision":"decline","nested":{"a":1}}');
  });
  const dir = tempDir();
  const p = await startProxy(testConfig(ch.url, cl.url, dir, {
    traffic: { control: 1 },
    control: { patch: JSON.parse('{"decision":"approve","__proto__":{"polluted":true},"nested":{"__proto__":"y"}}') },
    logging: { dir, fields: JSON.parse('{"__proto__":"/country"}') },
  }));
  t.after(() => p.shutdown());
  const r = await post(p.url, '{"country":"US"}');
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-ccrouter-group'], 'control');
  assert.equal(r.text, '{"score":0.9,"decision":"approve","nested":{"a":1,"__proto__":"y"},"__proto__":{"polluted":true}}');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const [rec] = await p.stopAndRead();
  assert.match(fs.readFileSync(path.join(dir, 'pairs.jsonl'), 'utf8'), /"fields":\{"__proto__":"US"\}/);
  assert.equal(rec!.group, 'control');
});
