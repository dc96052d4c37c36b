/** The real `ccrouter serve` with a fleet whose Redis is wrong, unreachable, answers garbage, or is shared with workers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { request } from 'undici';
import { stringify } from 'yaml';
import { spawnCli, waitForLine } from '../helpers/cli.js';
import { readJsonl, tempDir, testConfig } from '../helpers/proxy.js';
import { scoreBehaviour, startUpstream } from '../helpers/upstream.js';
import { adminPost, instance, status, until } from './helpers.js';
import { startRedis } from './redis.js';

async function serve(t: { after(fn: () => Promise<void> | void): void }, redisUrl: string, args: string[] = []) {
  const champion = await startUpstream(scoreBehaviour(0.8));
  const challenger = await startUpstream(scoreBehaviour(0.3));
  t.after(() => champion.close());
  t.after(() => challenger.close());
  const dir = tempDir();
  const file = path.join(dir, 'ccrouter.yaml');
  const raw = testConfig(champion.url, challenger.url, path.join(dir, 'logs'), {
    traffic: { challenger: 0.5 },
    fleet: { name: 'served', redis: redisUrl, instance: 'child' },
  });
  fs.writeFileSync(file, stringify(raw));
  const child = spawnCli(['serve', '--config', file, ...args], { CCROUTER_TEST_TOKEN: 'secret-token' });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => void child.kill('SIGKILL'));
  const [, url, adminUrl] = await waitForLine(child, /serving on (http:\/\/\S+) \(admin (http:\/\/\S+)\)/);
  const post = async () => {
    const res = await request(url + '/predict', { method: 'POST', headers: { 'x-user-id': 'u-1' }, body: '{}' });
    await res.body.text();
    return res.statusCode;
  };
  const getStatus = async () => (await request(adminUrl + '/status')).body.json() as Promise<any>;
  const stop = async () => {
    child.kill('SIGTERM');
    return exited;
  };
  return { raw, url: url!, adminUrl: adminUrl!, dir, post, getStatus, stop, stderr: () => stderr };
}

const fleetLines = (text: string) => text.split('\n').filter((l) => l.includes('fleet'));

test('a malformed Redis URL: the process starts, serves, says so once on stderr and in /status, and exits 0 on SIGTERM', { timeout: 60_000 }, async (t) => {
  const s = await serve(t, 'redis://127.0.0.1:notaport/0');
  for (let i = 0; i < 5; i++) assert.equal(await s.post(), 200);
  const st = await s.getStatus();
  assert.deepEqual(st.fleet, { name: 'served', instance: 'child', connected: false, version: 0 });
  assert.equal(await s.stop(), 0);
  assert.equal(fleetLines(s.stderr()).length, 1, s.stderr());
  assert.match(fleetLines(s.stderr())[0]!, /fleet\.redis is not a usable Redis URL/);
  const events = readJsonl(path.join(s.dir, 'logs', 'events.jsonl'));
  assert.deepEqual(events.map((e) => e.type), ['start', 'fleet_disconnected', 'shutdown']);
  assert.equal(events[1]!.instance, 'child');
});

test('Redis answering garbage: serves throughout, told once, never exits', { timeout: 60_000 }, async (t) => {
  // A server that answers every connection with bytes that are not RESP.
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const garbage = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.end('\x00\x01 not redis at all\r\n');
  });
  await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    garbage.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  }));
  const s = await serve(t, `redis://127.0.0.1:${(garbage.address() as net.AddressInfo).port}`);
  await until('three connection attempts', () => connections >= 3);
  for (let i = 0; i < 5; i++) assert.equal(await s.post(), 200);
  assert.equal((await s.getStatus()).fleet.connected, false);
  assert.equal(await s.stop(), 0);
  assert.equal(fleetLines(s.stderr()).length, 1, s.stderr());
});

test('with --workers, the primary holds the one fleet connection and its workers follow the fleet\'s levers', { timeout: 90_000 }, async (t) => {
  const redis = await startRedis();
  const s = await serve(t, redis.url, ['--workers', '2']);
  await until('the primary connected', async () => (await s.getStatus()).fleet.connected);
  // Another instance of the fleet takes the rollback.
  const other = await instance(t, { ...s.raw, logging: { dir: tempDir() }, fleet: { name: 'served', redis: redis.url, instance: 'other' } });
  await until('the other instance connected', async () => (await status(other)).fleet.connected);
  assert.equal(await adminPost(other, '/rollback'), 200);
  await until('the primary rolled back', async () => (await s.getStatus()).traffic.challenger === 0);
  // Every worker follows: 40 requests with distinct units, none served by the challenger.
  for (let i = 0; i < 40; i++) assert.equal(await s.post(), 200);
  // One connection named after the child (its primary's): its workers hold none.
  const clients = (await redis.command('CLIENT', 'LIST')).split('\n').filter((l) => l.includes(' name=ccrouter:child ')).length;
  assert.equal(await s.stop(), 0);
  const pairs = fs.readdirSync(path.join(s.dir, 'logs')).filter((f) => f.startsWith('pairs-w')).flatMap((f) => readJsonl(path.join(s.dir, 'logs', f)));
  assert.equal(pairs.length, 40);
  assert.ok(pairs.every((r) => r.served === 'champion' && r.instance === 'child'));
  assert.equal(clients, 1);
});
