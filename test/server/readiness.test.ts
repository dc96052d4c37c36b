import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Client, request } from 'undici';
import { stringify } from 'yaml';
import { loadConfigObject } from '../../src/config/load.js';
import { closeCore, openControl, openCore } from '../../src/lifecycle.js';
import { scoreBehaviour, startUpstream } from '../helpers/upstream.js';
import { readJsonl, tempDir, testConfig } from '../helpers/proxy.js';
import { spawnCli, waitForLine } from '../helpers/cli.js';
import { freePort } from '../fleet/redis.js';

type Ctx = { after(fn: () => unknown): void };

async function probe(adminUrl: string, p: '/healthz' | '/readyz'): Promise<{ status: number; body: unknown }> {
  const res = await request(adminUrl + p, { headers: { connection: 'close' } });
  return { status: res.statusCode, body: await res.body.json() };
}

async function models(t: Ctx) {
  const ch = await startUpstream(scoreBehaviour(0.8));
  const cl = await startUpstream(scoreBehaviour(0.3));
  t.after(() => ch.close());
  t.after(() => cl.close());
  return { ch, cl };
}

test('/readyz answers 503 starting while the admin listener is up and the public port is not, then ready; /healthz is 200 all along', async (t) => {
  const { ch, cl } = await models(t);
  const loaded = loadConfigObject(testConfig(ch.url, cl.url, path.join(tempDir(), 'logs')));
  const core = await openCore(loaded, { owner: true });
  const control = await openControl(core);
  t.after(() => closeCore(core, control.admin));
  assert.deepEqual(await probe(control.adminUrl, '/readyz'), { status: 503, body: { status: 'starting' } });
  assert.deepEqual(await probe(control.adminUrl, '/healthz'), { status: 200, body: { status: 'ok' } });
  control.serving();
  assert.deepEqual(await probe(control.adminUrl, '/readyz'), { status: 200, body: { status: 'ready' } });
  control.stopGuardrails();
});

test('regression: serve --workers 2 answers /readyz 503 starting while its workers start (its admin listener used to open only after them)', { timeout: 90_000 }, async (t) => {
  const { ch, cl } = await models(t);
  const dir = tempDir();
  const file = path.join(dir, 'c.yaml');
  const port = await freePort();
  fs.writeFileSync(file, stringify(testConfig(ch.url, cl.url, path.join(dir, 'logs'), { admin: { host: '127.0.0.1', port } })));
  const child = spawnCli(['serve', '--config', file, '--workers', '2']);
  t.after(() => { child.kill('SIGKILL'); });
  const serving = waitForLine(child, /serving on (http:\/\/\S+)/);
  let done = false;
  void serving.then(() => (done = true), () => (done = true));
  const seen: string[] = [];
  while (!done) {
    const answer = await probe(`http://127.0.0.1:${port}`, '/readyz').catch(() => null);
    const state = (answer?.body as { status?: string } | undefined)?.status;
    if (state !== undefined && seen.at(-1) !== state) seen.push(state);
    await new Promise((r) => setTimeout(r, 10));
  }
  await serving;
  assert.deepEqual((await probe(`http://127.0.0.1:${port}`, '/readyz')).body, { status: 'ready' });
  assert.equal(seen[0], 'starting', `states seen before it served: ${seen.join(', ')}`);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

/**
 * Spawn `serve` with a long shutdownDelayMs, SIGTERM it, and check that during the delay /readyz is
 * 503 draining while a NEW connection to the public port (and a kept-alive one) is served as before;
 * a second SIGTERM ends the delay, and the process drains and exits 0 with every record written.
 */
async function delayedShutdown(t: Ctx, workers: number) {
  const { ch, cl } = await models(t);
  const dir = tempDir();
  const logs = path.join(dir, 'logs');
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, stringify(testConfig(ch.url, cl.url, logs, { shutdownDelayMs: '60s', traffic: { challenger: 0.5 } })));
  const args = ['serve', '--config', file, ...(workers > 1 ? ['--workers', String(workers)] : [])];
  const child = spawnCli(args, { CCROUTER_TEST_TOKEN: 'x' });
  t.after(() => { child.kill('SIGKILL'); });
  const [, url, adminUrl] = await waitForLine(child, /serving on (http:\/\/\S+) \(admin (http:\/\/[^)]+)\)/);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  assert.deepEqual(await probe(adminUrl!, '/readyz'), { status: 200, body: { status: 'ready' } });

  const kept = new Client(url!, { keepAliveTimeout: 120_000 });
  t.after(() => kept.destroy());
  const send = async (client: Client | null, user: string) => {
    const res = client === null
      ? await request(url + '/predict', { method: 'POST', headers: { 'x-user-id': user, connection: 'close' }, body: '{}' })
      : await client.request({ method: 'POST', path: '/predict', headers: { 'x-user-id': user }, body: '{}' });
    await res.body.text();
    return res;
  };
  assert.equal((await send(kept, 'before')).statusCode, 200);

  child.kill('SIGTERM');
  let ready = await probe(adminUrl!, '/readyz');
  for (let i = 0; i < 400 && ready.status === 200; i++) {
    await new Promise((r) => setTimeout(r, 25));
    ready = await probe(adminUrl!, '/readyz');
  }
  assert.deepEqual(ready, { status: 503, body: { status: 'draining' } });
  assert.deepEqual(await probe(adminUrl!, '/healthz'), { status: 200, body: { status: 'ok' } });
  let answered = 1;
  for (let i = 0; i < 6; i++) {
    const fresh = await send(null, `new-${i}`);
    assert.equal(fresh.statusCode, 200, 'a new connection during the delay is served');
    answered++;
  }
  const again = await send(kept, 'kept');
  assert.equal(again.statusCode, 200);
  assert.notEqual(again.headers.connection, 'close', 'a kept-alive connection is served as before');
  answered++;

  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  const files = fs.readdirSync(logs).filter((f) => f.startsWith('pairs'));
  const records = files.flatMap((f) => readJsonl(path.join(logs, f)));
  assert.equal(records.length, answered);
  assert.deepEqual(readJsonl(path.join(logs, 'events.jsonl')).map((e) => e.type), ['start', 'shutdown']);
}

test('SIGTERM with shutdownDelayMs: /readyz turns 503 at once while new connections are still served; then the drain, exit 0', { timeout: 60_000 }, async (t) => {
  await delayedShutdown(t, 1);
});

test('serve --workers 2: the primary answers the probes for all; SIGTERM turns /readyz 503 while the workers still serve new connections', { timeout: 90_000 }, async (t) => {
  await delayedShutdown(t, 2);
});
