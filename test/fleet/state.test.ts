/** The fleet's shared state against one real redis-server: ramp origin, file configs, bad values, a storm. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadConfigObject } from '../../src/config/load.js';
import { scopeId } from '../../src/fleet/keys.js';
import { readJsonl, type TestProxy } from '../helpers/proxy.js';
import { adminPost, fleetConfig, instance, metric, metrics, models, status, until } from './helpers.js';
import { startRedis } from './redis.js';

const redis = await startRedis();
const HOUR = 3600_000;

const scopeOf = (raw: Record<string, unknown>) => scopeId(loadConfigObject(raw, {}).config);
const connected = (ps: TestProxy[]) => until('every instance connected', async () => (await Promise.all(ps.map(status))).every((s) => s.fleet.connected));

test('the first instance stores the ramp origin; a restarted instance joins the ramp at the fleet\'s current step', async (t) => {
  const m = await models(t);
  const extra = { traffic: { challenger: 0 }, ramp: { steps: [0.1, 0.2, 0.3, 0.4], every: '1h' } };
  const rawA = fleetConfig(m, redis.url, 'ramp', 'a', extra);
  const key = `ccrouter:ramp:ramp:${scopeOf(rawA)}`;
  const a = await instance(t, rawA);
  await connected([a]);
  await until('a stored its origin', async () => (await redis.command('GET', key)).startsWith('{'));
  assert.equal(JSON.parse(await redis.command('GET', key)).origin, 'a');
  const b = await instance(t, fleetConfig(m, redis.url, 'ramp', 'b', extra));
  await until('b follows a\'s origin', async () => (await status(b)).ramp.next === (await status(a)).ramp.next);

  // The fleet has been ramping for two and a half steps: both catch up to the second step.
  const start = Date.now() - 2.5 * HOUR;
  await redis.command('SET', key, JSON.stringify({ start, held: 0, origin: 'a' }));
  for (const p of [a, b]) await until('caught up', async () => (await status(p)).traffic.challenger === 0.2);
  assert.deepEqual((await status(a)).ramp, { step: 1, next: start + 3 * HOUR });

  // b restarts: it begins at the file's fraction and joins the fleet's step.
  await b.shutdown();
  const b2 = await instance(t, fleetConfig(m, redis.url, 'ramp', 'b', extra));
  await until('the restarted b joins at the fleet\'s step', async () => (await status(b2)).traffic.challenger === 0.2);
  assert.deepEqual((await status(b2)).ramp, { step: 1, next: start + 3 * HOUR });
  await b2.shutdown();
  const steps = readJsonl(path.join(b2.dir, 'events.jsonl')).filter((e) => e.type === 'ramp_step');
  assert.deepEqual(steps.map((e) => [e.from, e.to, e.source, e.instance]), [[0, 0.2, 'fleet', 'b']]);
});

test('two instances on different file configs (a ConfigMap mid-rollout) do not clear each other\'s rollback', async (t) => {
  const m = await models(t);
  const rawA = fleetConfig(m, redis.url, 'rollout', 'a');
  const rawB = fleetConfig(m, redis.url, 'rollout', 'b');
  const a = await instance(t, rawA);
  const b = await instance(t, rawB);
  await connected([a, b]);
  assert.equal(await adminPost(a, '/rollback'), 200);
  await until('b rolled back', async () => (await status(b)).traffic.challenger === 0);

  // The new file reaches b first: b's rollback belonged to the old file and is cleared for b only.
  const next = { traffic: { challenger: 0.4 } };
  b.runtime.loadFileConfig(loadConfigObject({ ...rawB, ...next }, {}));
  assert.equal((await status(b)).traffic.challenger, 0.4);
  // b rolls the new file back; a, still on the old file, stays rolled back once it has read it all.
  assert.equal(await adminPost(b, '/rollback'), 200);
  const version = (await status(b)).fleet.version;
  await until('a has read the fleet\'s latest version', async () => (await status(a)).fleet.version >= version);
  assert.equal((await status(a)).traffic.challenger, 0);
  // Then the new file reaches a: it finds that file rolled back by b, and b stays rolled back.
  a.runtime.loadFileConfig(loadConfigObject({ ...rawA, ...next }, {}));
  await until('a adopts the new file\'s rollback', async () => (await status(a)).traffic.challenger === 0);
  assert.equal((await status(b)).traffic.challenger, 0);
  await a.shutdown();
  const rollbacks = readJsonl(path.join(a.dir, 'events.jsonl')).filter((e) => e.type === 'rollback');
  assert.deepEqual(rollbacks.map((e) => [e.source, e.origin]), [['admin', undefined], ['fleet', 'b']]);
});

test('garbage in a key is ignored and counted, never applied; the next lever replaces it', async (t) => {
  const m = await models(t);
  const raws = ['a', 'b'].map((id) => fleetConfig(m, redis.url, 'garbage', id));
  const ps = [await instance(t, raws[0]!), await instance(t, raws[1]!)];
  await connected(ps);
  const scope = scopeOf(raws[0]!);
  await redis.command('SET', 'ccrouter:garbage:bypass', '{"on":"yes please"');
  await redis.command('SET', `ccrouter:garbage:rollback:${scope}`, '{"at":"soon","origin":"x","rule":null}');
  await redis.command('SET', 'ccrouter:garbage:version', 'many');
  for (const p of ps) await until('both malformed values counted', async () => metric(await metrics(p), 'ccrouter_fleet_sync_errors_total') >= 3);
  for (const s of await Promise.all(ps.map(status))) {
    assert.equal(s.mode, 'normal');
    assert.equal(s.traffic.challenger, 0.5);
  }
  // Counted once per value, not once per read.
  const counted = metric(await metrics(ps[0]!), 'ccrouter_fleet_sync_errors_total');
  await redis.command('SET', 'ccrouter:garbage:version', '7');
  await until('a read after the version is mended', async () => (await status(ps[0]!)).fleet.version === 7);
  assert.equal(await adminPost(ps[0]!, '/bypass', '{"on":true}'), 200);
  await until('the bypass reaches b', async () => (await status(ps[1]!)).mode === 'bypass');
  assert.equal(JSON.parse(await redis.command('GET', 'ccrouter:garbage:bypass')).on, true);
  assert.equal(metric(await metrics(ps[0]!), 'ccrouter_fleet_sync_errors_total'), counted);
  // A key of another type reads as absent and is replaced by the next write.
  await redis.command('DEL', 'ccrouter:garbage:bypass');
  await redis.command('HSET', 'ccrouter:garbage:bypass', 'on', 'false');
  assert.equal(await adminPost(ps[1]!, '/bypass', '{"on":false}'), 200);
  await until('the release reaches a', async () => (await status(ps[0]!)).mode === 'normal');
});

test('a lever storm (1 000 calls across three instances) ends with every instance in the same state as Redis', async (t) => {
  const m = await models(t);
  const ps: TestProxy[] = [];
  for (const id of ['a', 'b', 'c']) ps.push(await instance(t, fleetConfig(m, redis.url, 'storm', id)));
  await connected(ps);
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const calls = Array.from({ length: 1000 }, (_, i) => {
    const p = ps[Math.floor(rand() * 3)]!;
    return i % 100 === 99 ? () => adminPost(p, '/rollback') : () => adminPost(p, '/bypass', JSON.stringify({ on: rand() < 0.5 }));
  });
  const codes: number[] = [];
  // 120 calls at a time, over at most 16 connections per instance.
  for (let i = 0; i < calls.length; i += 120) codes.push(...await Promise.all(calls.slice(i, i + 120).map((c) => c())));
  assert.equal(codes.filter((c) => c === 200).length, 1000);
  const agreed = async () => {
    const all = await Promise.all(ps.map(status));
    const stored = JSON.parse(await redis.command('GET', 'ccrouter:storm:bypass')) as { on: boolean };
    return all.every((s) => s.mode === (stored.on ? 'bypass' : 'normal') && s.traffic.challenger === 0 &&
      s.fleet.version === all[0].fleet.version);
  };
  await until('every instance in the state Redis holds', agreed);
});
