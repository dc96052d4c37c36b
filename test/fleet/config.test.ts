/** The `fleet` section: its rules, its defaults, restart-only on reload, left out of the config id. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfigObject } from '../../src/config/load.js';
import { reloadConfig } from '../../src/config/reload.js';
import { validateConfig } from '../../src/config/schema.js';
import { scopeId } from '../../src/fleet/keys.js';
import { assertLine, invalid, minimal } from '../config/helpers.js';
import { tempDir } from '../helpers/proxy.js';

const withFleet = (fleet: unknown) => ({ ...minimal(), fleet });

test('fleet: name and redis are required; instance defaults to the host name', () => {
  const c = validateConfig(withFleet({ name: 'fraud-v8', redis: 'redis://127.0.0.1:6379/0' }));
  assert.deepEqual(c.fleet, { name: 'fraud-v8', redis: 'redis://127.0.0.1:6379/0', instance: os.hostname() });
  const { message } = invalid(() => validateConfig(withFleet({})));
  assertLine(message, 'fleet.name: is required');
  assertLine(message, 'fleet.redis: is required');
  assert.equal(validateConfig(minimal()).fleet, undefined);
});

test('fleet: each bad value is named by its path, and a URL is never quoted (it may hold a password)', () => {
  const cases: Array<[unknown, string]> = [
    [{ name: 'a:b', redis: 'redis://h' }, 'fleet.name: must be 1 to 64 letters, digits, ".", "_" or "-", got "a:b"'],
    [{ name: 'a', redis: 'http://user:hunter2@h:6379' }, 'fleet.redis: must be a redis:// or rediss:// URL, got scheme "http:"'],
    [{ name: 'a', redis: 'hunter2' }, 'fleet.redis: must be a redis:// or rediss:// URL, got no scheme'],
    [{ name: 'a', redis: 6379 }, 'fleet.redis: must be a string, got number 6379'],
    [{ name: 'a', redis: 'redis://h', instance: 'pod 1' }, 'fleet.instance: must be 1 to 253 printable characters without spaces'],
    [{ name: 'a', redis: 'redis://h', instance: '' }, 'fleet.instance: must not be empty'],
    [{ name: 'a', redis: 'redis://h', password: 'x' }, 'fleet.password: unknown key'],
    ['on', 'fleet: must be a mapping, got string "on"'],
  ];
  for (const [fleet, line] of cases) {
    const { message } = invalid(() => validateConfig(withFleet(fleet)));
    assertLine(message, line);
    assert.ok(!message.includes('hunter2'), message);
  }
  // rediss:// (TLS) and an upper-case scheme are fine.
  assert.equal(validateConfig(withFleet({ name: 'a', redis: 'REDISS://h:6380' })).fleet!.redis, 'REDISS://h:6380');
});

test('the password comes from the environment through ${VAR}', () => {
  const loaded = loadConfigObject(withFleet({ name: 'a', redis: 'redis://:${REDIS_PASSWORD}@h:6379/0' }), { REDIS_PASSWORD: 's3cret' });
  assert.equal(loaded.config.fleet!.redis, 'redis://:s3cret@h:6379/0');
});

test('two instances of one fleet on the same file have the same config id and scope (their names and ports differ)', () => {
  const a = loadConfigObject({ ...withFleet({ name: 'f', redis: 'redis://h', instance: 'pod-a' }), listen: { port: 8080 }, logging: { dir: '/logs/a' } }, {});
  const b = loadConfigObject({ ...withFleet({ name: 'f', redis: 'redis://other', instance: 'pod-b' }), listen: { port: 8081 }, logging: { dir: '/logs/b' } }, {});
  assert.equal(a.id, loadConfigObject({ ...minimal(), listen: { port: 8080 }, logging: { dir: '/logs/a' } }, {}).id);
  assert.equal(scopeId(a.config), scopeId(b.config));
  const c = loadConfigObject({ ...withFleet({ name: 'f', redis: 'redis://h', instance: 'pod-a' }), traffic: { challenger: 0.1 } }, {});
  assert.notEqual(scopeId(a.config), scopeId(c.config));
});

test('fleet is restart-only: a reload keeps the running fleet and names it in restartRequired', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'ccrouter.json');
  const write = (fleet: unknown, challenger: number) => fs.writeFileSync(file, JSON.stringify({ ...withFleet(fleet), traffic: { challenger } }));
  write({ name: 'f', redis: 'redis://h', instance: 'a' }, 0.1);
  const current = loadConfigObject(JSON.parse(fs.readFileSync(file, 'utf8')), {});
  write({ name: 'g', redis: 'redis://other', instance: 'a' }, 0.2);
  const r = await reloadConfig(file, current, false, {});
  assert.equal(r.result, 'loaded');
  if (r.result !== 'loaded') return;
  assert.deepEqual(r.restartRequired, ['fleet']);
  assert.deepEqual(r.loaded.config.fleet, current.config.fleet);
  assert.equal(r.loaded.config.traffic.challenger, 0.2);
});
