import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Pool, request } from 'undici';
import { stringify } from 'yaml';
import { loadConfigFile } from '../../src/config/load.js';
import { applyReload } from '../../src/runtime/reload.js';
import { startServer } from '../../src/server.js';
import { SERVED_CONNECTIONS } from '../../src/upstream/model-client.js';
import { scoreBehaviour, startUpstream } from '../helpers/upstream.js';
import { readJsonl, tempDir, testConfig } from '../helpers/proxy.js';
import { spawnCli, waitForLine } from '../helpers/cli.js';

async function fixture(t: { after(fn: () => Promise<void>): void }) {
  const ch = await startUpstream(scoreBehaviour(0.8));
  const cl = await startUpstream(scoreBehaviour(0.3));
  t.after(() => ch.close());
  t.after(() => cl.close());
  const dir = tempDir();
  const file = path.join(dir, 'ccrouter.yaml');
  const logs = path.join(dir, 'logs');
  const write = (extra: Record<string, unknown>) => fs.writeFileSync(file, stringify(testConfig(ch.url, cl.url, logs, extra)));
  return { ch, cl, dir, file, logs, write };
}

/** Write through a temp file and rename, as editors do. */
function replaceFile(file: string, text: string): void {
  const tmp = file + '.swp';
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

test('reload under load: no failed request, records switch config id exactly at the change, fractions follow', { timeout: 30_000 }, async (t) => {
  const { file, logs, write } = await fixture(t);
  write({ traffic: { control: 0, challenger: 0 } });
  const server = await startServer(loadConfigFile(file), { env: {}, defaultMetrics: false });
  const first = server.runtime.snapshot.id;
  const pool = new Pool(server.url, { connections: 8 });
  let failed = 0;
  let sent = 0;
  let stop = false;
  const worker = async (w: number) => {
    while (!stop) {
      const res = await pool.request({ method: 'POST', path: '/predict', headers: { 'x-user-id': `u-${w}-${sent++}` }, body: '{}' });
      await res.body.text();
      if (res.statusCode !== 200) failed++;
    }
  };
  const workers = Array.from({ length: 8 }, (_, w) => worker(w));
  while (sent < 200) await new Promise((r) => setTimeout(r, 5));
  write({ traffic: { control: 0, challenger: 1 } });
  await applyReload(server.runtime, file, false);
  const second = server.runtime.snapshot.id;
  assert.notEqual(second, first);
  const at = sent;
  while (sent < at + 200) await new Promise((r) => setTimeout(r, 5));
  stop = true;
  await Promise.all(workers);
  await pool.close();
  await server.shutdown();

  assert.equal(failed, 0);
  const records = readJsonl(path.join(logs, 'pairs.jsonl'));
  const ids = records.map((r) => r.config);
  // Every record assigned under the first config precedes... by config, not by write order: check groups.
  for (const r of records) {
    if (r.config === first) assert.equal(r.group, 'champion');
    else {
      assert.equal(r.config, second);
      assert.equal(r.group, 'challenger');
    }
  }
  assert.ok(ids.includes(first) && ids.includes(second));
  const events = readJsonl(path.join(logs, 'events.jsonl'));
  const loaded = events.find((e) => e.type === 'config_loaded')!;
  assert.equal(loaded.config, second);
  assert.deepEqual(loaded.traffic, { control: 0, challenger: 1 });
  assert.deepEqual(loaded.restartRequired, []);
});

test('invalid reloads keep the old config and write config_rejected with the reason', async (t) => {
  const { file, logs, write } = await fixture(t);
  write({ traffic: { control: 0.1, challenger: 0.2 } });
  const server = await startServer(loadConfigFile(file), { env: {}, defaultMetrics: false });
  const id = server.runtime.snapshot.id;
  fs.writeFileSync(file, 'models: [unclosed');
  await applyReload(server.runtime, file, false);
  write({ traffic: { control: 0.6, challenger: 0.5 } });
  await applyReload(server.runtime, file, false);
  write({ traffic: { control: 0.1, challenger: 0.2 }, bogus: 1 });
  await applyReload(server.runtime, file, false);
  assert.equal(server.runtime.snapshot.id, id);
  const res = await request(server.url + '/predict', { method: 'POST', headers: { 'x-user-id': 'u' }, body: '{}' });
  assert.equal(res.statusCode, 200);
  await res.body.text();
  const metrics = await (await request(server.adminUrl + '/metrics')).body.text();
  assert.match(metrics, /ccrouter_config_reloads_total\{result="rejected"\} 3/);
  await server.shutdown();
  const rejected = readJsonl(path.join(logs, 'events.jsonl')).filter((e) => e.type === 'config_rejected');
  assert.equal(rejected.length, 3);
  assert.match(rejected[0]!.reason, /cannot parse config/);
  assert.match(rejected[1]!.reason, /traffic/);
  assert.match(rejected[2]!.reason, /bogus: unknown key/);
  assert.ok(rejected.every((e) => e.config === id));
});

test('restart-only keys are kept and listed under restartRequired', async (t) => {
  const { file, logs, write } = await fixture(t);
  write({ traffic: { control: 0.1, challenger: 0.2 } });
  const server = await startServer(loadConfigFile(file), { env: {}, defaultMetrics: false });
  const before = server.runtime.snapshot.config;
  write({ traffic: { control: 0.1, challenger: 0.3 }, limits: { bodyBytes: 10 }, shutdownGraceMs: 1, shutdownDelayMs: '2s' });
  await applyReload(server.runtime, file, false);
  const after = server.runtime.snapshot.config;
  assert.equal(after.traffic.challenger, 0.3);
  assert.deepEqual(after.limits, before.limits);
  assert.equal(after.shutdownGraceMs, before.shutdownGraceMs);
  assert.equal(after.shutdownDelayMs, 0);
  await server.shutdown();
  const events = readJsonl(path.join(logs, 'events.jsonl')).filter((e) => e.type === 'config_loaded');
  assert.equal(events.length, 1);
  assert.deepEqual(events[0]!.restartRequired, ['limits', 'shutdownGraceMs', 'shutdownDelayMs']);
});

test('regression: an edit of restart-only keys or comments only wrote no event; now config_loaded names what waits, and the config and its levers stay', async (t) => {
  const { file, logs, write } = await fixture(t);
  write({ traffic: { control: 0.1, challenger: 0.2 } });
  const server = await startServer(loadConfigFile(file), { env: {}, defaultMetrics: false });
  t.after(() => server.shutdown());
  server.runtime.rollback('admin');
  const id = server.runtime.snapshot.id;
  const eventsFile = path.join(logs, 'events.jsonl');
  const loadedEvents = () => readJsonl(eventsFile).filter((e) => e.type === 'config_loaded');

  write({ traffic: { control: 0.1, challenger: 0.2 }, shutdownDelayMs: '5s' });
  await applyReload(server.runtime, file, false);
  assert.equal(loadedEvents().length, 1, 'a restart-only edit is announced');
  assert.deepEqual(loadedEvents()[0]!.restartRequired, ['shutdownDelayMs']);
  assert.equal(loadedEvents()[0]!.config, id, 'the effective id stays');
  assert.equal(server.runtime.snapshot.config.traffic.challenger, 0, 'the rollback stays: the config in force did not change');
  assert.equal(server.runtime.snapshot.config.shutdownDelayMs, 0);

  fs.appendFileSync(file, '\n# a comment\n');
  await applyReload(server.runtime, file, false);
  assert.equal(loadedEvents().length, 2, 'a comment-only edit is announced');
  assert.deepEqual(loadedEvents()[1]!.restartRequired, ['shutdownDelayMs'], 'still waiting for a restart');

  fs.writeFileSync(file, fs.readFileSync(file));
  await applyReload(server.runtime, file, false);
  assert.equal(loadedEvents().length, 2, 'the same bytes written again are no change');

  const metrics = await (await request(server.adminUrl + '/metrics')).body.text();
  assert.match(metrics, /ccrouter_config_reloads_total\{result="loaded"\} 2/);
});

test('regression: putting back the last good content after a refused edit wrote no event', async (t) => {
  const { file, logs, write } = await fixture(t);
  write({ traffic: { control: 0.1, challenger: 0.2 } });
  const good = fs.readFileSync(file);
  const server = await startServer(loadConfigFile(file), { env: {}, defaultMetrics: false });
  t.after(() => server.shutdown());
  fs.writeFileSync(file, 'models: [unclosed');
  await applyReload(server.runtime, file, false);
  fs.writeFileSync(file, good);
  await applyReload(server.runtime, file, false);
  const types = readJsonl(path.join(logs, 'events.jsonl')).map((e) => e.type);
  assert.deepEqual(types, ['start', 'config_rejected', 'config_loaded']);
});

test('each model pool holds traffic.shadowLimit connections plus room for served calls, and follows a reload', async (t) => {
  const { file, write } = await fixture(t);
  write({ traffic: { control: 0, challenger: 0.5, shadowLimit: 8 } });
  const server = await startServer(loadConfigFile(file), { env: {}, defaultMetrics: false });
  t.after(() => server.shutdown());
  const before = server.runtime.snapshot.clients;
  assert.equal(before.champion.maxConnections, 8 + SERVED_CONNECTIONS);
  assert.equal(before.challenger.maxConnections, 8 + SERVED_CONNECTIONS);
  write({ traffic: { control: 0, challenger: 0.5, shadowLimit: 64 } });
  await applyReload(server.runtime, file, false);
  const after = server.runtime.snapshot.clients;
  assert.equal(after.challenger.maxConnections, 64 + SERVED_CONNECTIONS);
  assert.notEqual(after.challenger, before.challenger, 'a new pool; the old one finishes its calls and closes');
  for (let i = 0; i < 10; i++) {
    const res = await request(server.url + '/predict', { method: 'POST', headers: { 'x-user-id': `u-${i}` }, body: '{}' });
    assert.equal(res.statusCode, 200);
    await res.body.text();
  }
});

test('a config load clears a rollback; mode from the file applies only when it changed in the file', async (t) => {
  const { file, write } = await fixture(t);
  write({ traffic: { challenger: 0.5 } });
  const server = await startServer(loadConfigFile(file), { env: {}, defaultMetrics: false });
  t.after(() => server.shutdown());
  server.runtime.rollback('admin');
  server.runtime.setBypass(true, 'admin');
  assert.equal(server.runtime.snapshot.config.traffic.challenger, 0);
  write({ traffic: { challenger: 0.6 } });
  await applyReload(server.runtime, file, false);
  assert.equal(server.runtime.snapshot.config.traffic.challenger, 0.6);
  assert.equal(server.runtime.snapshot.config.mode, 'bypass', 'mode unchanged in the file: the lever stays');
  write({ traffic: { challenger: 0.6 }, mode: 'bypass' });
  await applyReload(server.runtime, file, false);
  write({ traffic: { challenger: 0.6 }, mode: 'normal' });
  await applyReload(server.runtime, file, false);
  assert.equal(server.runtime.snapshot.config.mode, 'normal');
});

test('serve: SIGHUP reloads, and an editor-style file replace is picked up by the watcher', { timeout: 30_000 }, async (t) => {
  const { file, logs, write, ch, cl } = await fixture(t);
  write({ traffic: { control: 0, challenger: 0 } });
  const child = spawnCli(['serve', '--config', file]);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  t.after(() => { child.kill('SIGKILL'); });
  await waitForLine(child, /serving on (http:\/\/\S+)/);
  const eventsFile = path.join(logs, 'events.jsonl');
  const waitFor = async (n: number) => {
    for (let i = 0; i < 400; i++) {
      const loaded = readJsonl(eventsFile).filter((e) => e.type === 'config_loaded');
      if (loaded.length >= n) return loaded;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no ${n} config_loaded events: ${fs.readFileSync(eventsFile, 'utf8')} ${stderr}`);
  };
  child.kill('SIGHUP');
  const afterHup = await waitFor(1);
  assert.deepEqual(afterHup[0]!.traffic, { control: 0, challenger: 0 }, 'SIGHUP loads even an unchanged file');
  replaceFile(file, stringify(testConfig(ch.url, cl.url, logs, { traffic: { control: 0, challenger: 0.4 } })));
  const afterWatch = await waitFor(2);
  assert.deepEqual(afterWatch[1]!.traffic, { control: 0, challenger: 0.4 });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
