import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'undici';
import { stringify } from 'yaml';
import { scoreBehaviour, startUpstream } from '../helpers/upstream.js';
import { readJsonl, tempDir, testConfig } from '../helpers/proxy.js';
import { spawnCli, waitForLine } from '../helpers/cli.js';

test('SIGTERM during load with keep-alive clients: answered requests == pair records, exit 0', { timeout: 60_000 }, async (t) => {
  const champion = await startUpstream(scoreBehaviour(0.7, 5));
  const challenger = await startUpstream(scoreBehaviour(0.4, 40));
  t.after(() => champion.close());
  t.after(() => challenger.close());
  const dir = tempDir();
  const file = path.join(dir, 'ccrouter.yaml');
  fs.writeFileSync(file, stringify(testConfig(champion.url, challenger.url, path.join(dir, 'logs'), {
    traffic: { control: 0.1, challenger: 0.3 },
    shutdownGraceMs: 5000,
  })));
  const child = spawnCli(['serve', '--config', file], { CCROUTER_TEST_TOKEN: 'x' });
  const [, url] = await waitForLine(child, /serving on (http:\/\/\S+)/);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  // 16 keep-alive connections sending back to back until the proxy goes away.
  const pool = new Pool(url!, { connections: 16, keepAliveTimeout: 60_000 });
  let answered = 0;
  let refused = 0;
  let stop = false;
  const worker = async (w: number) => {
    for (let i = 0; !stop; i++) {
      try {
        const res = await pool.request({ method: 'POST', path: '/predict', headers: { 'x-user-id': `u-${w}-${i}` }, body: '{}' });
        await res.body.text();
        if (res.statusCode === 200) answered++;
        else throw new Error(`status ${res.statusCode}`);
      } catch {
        refused++;
        if (stop) return;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  const workers = Array.from({ length: 16 }, (_, w) => worker(w));
  while (answered < 300) await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGTERM');
  const code = await exited;
  stop = true;
  await Promise.all(workers);
  await pool.destroy();

  assert.equal(code, 0);
  const records = readJsonl(path.join(dir, 'logs', 'pairs.jsonl'));
  const ok = records.filter((r) => !r.error);
  assert.equal(ok.length, answered, `answered ${answered}, records ${ok.length}, refused ${refused}`);
  assert.equal(new Set(records.map((r) => r.requestId)).size, records.length, 'no duplicate records');
  assert.ok(ok.every((r) => r.challenger.error === null || r.challenger.error.kind === 'canceled'), 'shadow calls finished within the grace');
  const events = readJsonl(path.join(dir, 'logs', 'events.jsonl'));
  assert.deepEqual(events.map((e) => e.type), ['start', 'shutdown']);
});

test('shutdown cancels shadow calls still running at shutdownGraceMs and records them as canceled', { timeout: 30_000 }, async (t) => {
  const champion = await startUpstream(scoreBehaviour(0.7));
  const challenger = await startUpstream(scoreBehaviour(0.4, 20_000));
  t.after(() => champion.close());
  t.after(() => challenger.close());
  const dir = tempDir();
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, stringify(testConfig(champion.url, challenger.url, path.join(dir, 'logs'), {
    models: {
      champion: { url: champion.url, version: 'v-champ', timeoutMs: 1000 },
      challenger: { url: challenger.url, version: 'v-chall', timeoutMs: 30_000 },
    },
    shutdownGraceMs: 300,
  })));
  const child = spawnCli(['serve', '--config', file], { CCROUTER_TEST_TOKEN: 'x' });
  const [, url] = await waitForLine(child, /serving on (http:\/\/\S+)/);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const pool = new Pool(url!, { connections: 1 });
  const res = await pool.request({ method: 'POST', path: '/predict', headers: { 'x-user-id': 'u' }, body: '{}' });
  assert.equal(res.statusCode, 200);
  await res.body.text();
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  await pool.destroy();
  const [rec] = readJsonl(path.join(dir, 'logs', 'pairs.jsonl'));
  assert.equal(rec!.challenger.error.kind, 'canceled');
  assert.equal(rec!.champion.score, 0.7);
});
