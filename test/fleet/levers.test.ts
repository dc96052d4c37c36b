/** Levers shared by three real instances through one real redis-server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readJsonl, type TestProxy } from '../helpers/proxy.js';
import { adminPost, fleetConfig, instance, metric, metrics, models, scored, status, until } from './helpers.js';
import { freePort, startRedis } from './redis.js';

const redis = await startRedis();

async function three(t: Parameters<typeof models>[0], name: string, extra: Record<string, unknown> = {}) {
  const m = await models(t);
  const ps: TestProxy[] = [];
  for (const id of ['a', 'b', 'c']) ps.push(await instance(t, fleetConfig(m, redis.url, name, id, extra)));
  await until('every instance connected', async () => (await Promise.all(ps.map(status))).every((s) => s.fleet.connected));
  return { m, ps };
}

test('a rollback on one instance rolls back every instance, each writing `rollback` with source fleet and origin', async (t) => {
  const { ps } = await three(t, 'rollback');
  const [a, b, c] = ps as [TestProxy, TestProxy, TestProxy];
  assert.deepEqual((await status(b)).fleet, { name: 'rollback', instance: 'b', connected: true, version: 0 });
  assert.equal(await scored(b, 'u-1'), 200);
  assert.equal(await adminPost(a, '/rollback'), 200);
  await until('b and c rolled back', async () => (await status(b)).traffic.challenger === 0 && (await status(c)).traffic.challenger === 0);
  await until('every instance at the same version', async () => new Set((await Promise.all(ps.map(status))).map((s) => s.fleet.version)).size === 1);

  const pairs = await b.stopAndRead();
  assert.equal(pairs[0]!.instance, 'b');
  assert.deepEqual(Object.keys(pairs[0]!).slice(0, 7), ['level', 'time', 'msg', 'requestId', 'route', 'config', 'instance']);
  const eventsB = readJsonl(path.join(b.dir, 'events.jsonl'));
  const rb = eventsB.find((e) => e.type === 'rollback')!;
  assert.equal(rb.source, 'fleet');
  assert.equal(rb.origin, 'a');
  assert.equal(rb.instance, 'b');
  assert.equal(rb.traffic.challenger, 0);
  assert.ok(eventsB.some((e) => e.type === 'fleet_connected'));
  await a.shutdown();
  const ra = readJsonl(path.join(a.dir, 'events.jsonl')).find((e) => e.type === 'rollback')!;
  assert.equal(ra.source, 'admin');
  assert.equal(ra.origin, undefined);
});

test('the kill switch on one instance reaches every instance, and so does its release', async (t) => {
  const { ps } = await three(t, 'bypass');
  const [a, b, c] = ps as [TestProxy, TestProxy, TestProxy];
  assert.equal(await adminPost(b, '/bypass', '{"on":true}'), 200);
  await until('every instance in bypass', async () => (await Promise.all(ps.map(status))).every((s) => s.mode === 'bypass'));
  assert.equal(await adminPost(c, '/bypass', '{"on":false}'), 200);
  await until('every instance back to normal', async () => (await Promise.all(ps.map(status))).every((s) => s.mode === 'normal'));
  await a.shutdown();
  const events = readJsonl(path.join(a.dir, 'events.jsonl')).filter((e) => e.type === 'bypass');
  assert.deepEqual(events.map((e) => [e.on, e.source, e.origin]), [[true, 'fleet', 'b'], [false, 'fleet', 'c']]);
});

test('a guardrail trip on the one instance that sees traffic rolls every instance back', async (t) => {
  const { m, ps } = await three(t, 'trip', { guardrails: { window: 20, minSamples: 10, maxErrorRate: 0.1 } });
  const [a, b, c] = ps as [TestProxy, TestProxy, TestProxy];
  m.challenger.behave((_req, res) => {
    res.writeHead(500).end();
  });
  // Only a sees traffic; the challenger runs in shadow for every request, so every record counts.
  for (let i = 0; i < 30 && !(await status(a)).guardrails.tripped; i++) assert.equal(await scored(a, `u-${i}`), 200);
  assert.deepEqual((await status(a)).guardrails, { tripped: true, rule: 'error_rate' });
  await until('b and c rolled back', async () => (await status(b)).traffic.challenger === 0 && (await status(c)).traffic.challenger === 0);
  assert.deepEqual((await status(c)).guardrails, { tripped: true, rule: 'error_rate' });
  assert.equal((await status(b)).counters.requests.challenger + (await status(b)).counters.requests.champion, 0, 'b saw no traffic');
  await b.shutdown();
  const rb = readJsonl(path.join(b.dir, 'events.jsonl')).find((e) => e.type === 'rollback')!;
  assert.deepEqual([rb.source, rb.origin, rb.rule], ['fleet', 'a', 'error_rate']);
});

test('an alert-only trip followed by an admin rollback reaches the others as the admin\'s rollback, not as a trip', async (t) => {
  const { m, ps } = await three(t, 'alert', { guardrails: { window: 20, minSamples: 10, maxErrorRate: 0.1, action: 'alert' } });
  const [a, b] = ps as [TestProxy, TestProxy, TestProxy];
  m.challenger.behave((_req, res) => {
    res.writeHead(500).end();
  });
  for (let i = 0; i < 30 && !(await status(a)).guardrails.tripped; i++) assert.equal(await scored(a, `u-${i}`), 200);
  assert.deepEqual((await status(a)).guardrails, { tripped: true, rule: 'error_rate' });
  assert.equal((await status(b)).traffic.challenger, 0.5, 'an alert is not a lever');
  assert.equal(await adminPost(a, '/rollback'), 200);
  await until('b rolled back', async () => (await status(b)).traffic.challenger === 0);
  assert.deepEqual((await status(b)).guardrails, { tripped: false, rule: null });
  await b.shutdown();
  const rb = readJsonl(path.join(b.dir, 'events.jsonl')).find((e) => e.type === 'rollback')!;
  assert.deepEqual([rb.source, rb.origin, rb.rule], ['fleet', 'a', undefined]);
});

test('Redis killed while traffic flows: every request answered; a lever taken meanwhile reaches the others when it is back', async (t) => {
  const { ps } = await three(t, 'outage');
  const [a, b, c] = ps as [TestProxy, TestProxy, TestProxy];
  let sent = 0;
  let answered = 0;
  let flowing = true;
  const flow = async (p: TestProxy, k: number) => {
    while (flowing) {
      sent++;
      if ((await scored(p, `u-${k}-${sent}`)) === 200) answered++;
    }
  };
  const traffic = ps.map((p, k) => flow(p, k));
  await until('some traffic', () => answered >= 30);
  await redis.kill();
  await until('every instance sees Redis gone', async () => (await Promise.all(ps.map(status))).every((s) => !s.fleet.connected));
  assert.equal(metric(await metrics(b), 'ccrouter_fleet_connected'), 0);
  const before = answered;
  await until('traffic goes on without Redis', () => answered >= before + 30);
  // Taken during the outage: applies here at once, and nowhere else yet (nothing can carry it).
  assert.equal(await adminPost(a, '/bypass', '{"on":true}'), 200);
  assert.equal((await status(a)).mode, 'bypass');
  assert.equal((await status(b)).mode, 'normal');
  await redis.restart();
  await until('b and c adopt the bypass', async () => (await status(b)).mode === 'bypass' && (await status(c)).mode === 'bypass');
  assert.equal(metric(await metrics(b), 'ccrouter_fleet_connected'), 1);
  flowing = false;
  await Promise.all(traffic);
  assert.equal(answered, sent, `${sent} sent, ${answered} answered with 200`);
  await c.shutdown();
  const types = readJsonl(path.join(c.dir, 'events.jsonl')).map((e) => e.type);
  assert.deepEqual(types.filter((x) => x.startsWith('fleet_') || x === 'bypass'), ['fleet_connected', 'fleet_disconnected', 'fleet_connected', 'bypass']);
});

test('Redis unreachable at start: the instance serves at once, then joins the fleet when Redis appears', async (t) => {
  const m = await models(t);
  const port = await freePort();
  const a = await instance(t, fleetConfig(m, `redis://127.0.0.1:${port}`, 'late', 'a'));
  for (let i = 0; i < 5; i++) assert.equal(await scored(a, `u-${i}`), 200);
  assert.equal((await status(a)).fleet.connected, false);
  // A lever taken before Redis ever answered is written once it does.
  assert.equal(await adminPost(a, '/rollback'), 200);
  const late = await startRedis(port);
  t.after(() => late.kill());
  await until('a connected', async () => (await status(a)).fleet.connected);
  const b = await instance(t, fleetConfig(m, late.url, 'late', 'b'));
  await until('b adopts the rollback a took before Redis was there', async () => (await status(b)).traffic.challenger === 0);
  await a.shutdown();
  const types = readJsonl(path.join(a.dir, 'events.jsonl')).map((e) => e.type);
  assert.deepEqual(types, ['start', 'fleet_disconnected', 'rollback', 'fleet_connected', 'shutdown']);
});

test('Redis frozen (SIGSTOP) while traffic flows: no request waits on it; a lever applies locally and reaches the others when it answers again', async (t) => {
  const { ps } = await three(t, 'frozen');
  const [a, b] = ps as [TestProxy, TestProxy, TestProxy];
  redis.pause();
  t.after(() => redis.resume());
  // Every connection stays open and every command hangs: requests and the admin call are answered all the same.
  const codes: number[] = [];
  await Promise.all(ps.map(async (p, k) => {
    for (let i = 0; i < 20; i++) codes.push(await scored(p, `u-${k}-${i}`));
  }));
  assert.deepEqual(codes, Array(60).fill(200));
  assert.equal(await adminPost(a, '/bypass', '{"on":true}'), 200);
  assert.equal((await status(a)).mode, 'bypass');
  redis.resume();
  await until('b adopts the bypass once Redis answers', async () => (await status(b)).mode === 'bypass');
});
