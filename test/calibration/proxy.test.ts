import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { stringify } from 'yaml';
import { loadConfigFile } from '../../src/config/load.js';
import { applyReload } from '../../src/runtime/reload.js';
import { startServer } from '../../src/server.js';
import { scoreBehaviour, startUpstream } from '../helpers/upstream.js';
import { readJsonl, startProxy, tempDir, testConfig } from '../helpers/proxy.js';

// Champion raw 0.8 → 0.4 normalized (below 0.5); challenger raw 0.3 → 0.7 (above): calibration
// flips both decisions compared with raw thresholds.
const TABLE = { metric: 'precision', models: { 'v-champ': [[0.2, 0.1], [1.0, 0.5]], 'v-chall': [[0.1, 0.5], [0.5, 0.9]] } };

function writeTable(dir: string, table: unknown = TABLE): string {
  const file = path.join(dir, 'calibration.json');
  fs.writeFileSync(file, JSON.stringify(table));
  return file;
}

test('calibration: decisions compare the normalized score with decision.threshold; the served score is injected', async (t) => {
  const ch = await startUpstream(scoreBehaviour(0.8));
  const cl = await startUpstream(scoreBehaviour(0.3));
  t.after(() => ch.close());
  t.after(() => cl.close());
  const dir = tempDir();
  const p = await startProxy(testConfig(ch.url, cl.url, dir, {
    models: { champion: { url: ch.url, version: 'v-champ', threshold: 0.99 }, challenger: { url: cl.url, version: 'v-chall', threshold: 0.01 } },
    calibration: { file: writeTable(dir), inject: '/normalized_score' },
    decision: { threshold: 0.5 },
  }));
  const res = await request(p.url + '/predict', { method: 'POST', headers: { 'x-user-id': 'u' }, body: '{}' });
  const body = (await res.body.json()) as Record<string, number>;
  assert.equal(body.score, 0.8, 'the raw score is left as it is');
  assert.ok(Math.abs(body.normalized_score! - 0.4) < 1e-12, `injected ${body.normalized_score}`);
  const [rec] = await p.stopAndRead();
  assert.ok(Math.abs(rec!.champion.normalized - 0.4) < 1e-12);
  assert.ok(Math.abs(rec!.challenger.normalized - 0.7) < 1e-12);
  assert.equal(rec!.champion.decision, false, 'normalized 0.4 < 0.5 (per-model thresholds ignored)');
  assert.equal(rec!.challenger.decision, true, 'normalized 0.7 >= 0.5');
  assert.equal(rec!.agree, false);
});

test('calibration: a table without one of the versions refuses the config; a reload reloads the table', async (t) => {
  const ch = await startUpstream(scoreBehaviour(0.8));
  const cl = await startUpstream(scoreBehaviour(0.3));
  t.after(() => ch.close());
  t.after(() => cl.close());
  const dir = tempDir();
  const calFile = writeTable(dir, { metric: 'precision', models: { 'v-champ': [[0, 0], [1, 1]] } });
  const raw = testConfig(ch.url, cl.url, path.join(dir, 'logs'), { calibration: { file: calFile } });
  await assert.rejects(startProxy(raw), (err: Error & { code?: string }) => err.code === 'CCR_ERR_CALIBRATION' && /v-chall/.test(err.message));

  writeTable(dir);
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, stringify(raw));
  const server = await startServer(loadConfigFile(file), { env: {}, defaultMetrics: false });
  const score = async () => {
    const r = await request(server.url + '/predict', { method: 'POST', headers: { 'x-user-id': 'u' }, body: '{}' });
    await r.body.text();
  };
  await score();
  // New table: champion 0.8 → 0.8.
  writeTable(dir, { metric: 'precision', models: { 'v-champ': [[0, 0], [1, 1]], 'v-chall': [[0, 0], [1, 1]] } });
  await applyReload(server.runtime, file, true);
  await score();
  // A broken table is refused like a bad config.
  fs.writeFileSync(calFile, '{"metric":"precision","models":{"v-champ":[[0,0.9],[1,0.1]]}}');
  await applyReload(server.runtime, file, true);
  await score();
  await server.shutdown();
  const recs = readJsonl(path.join(dir, 'logs', 'pairs.jsonl'));
  assert.deepEqual(recs.map((r) => Math.round(r.champion.normalized * 1000) / 1000), [0.4, 0.8, 0.8]);
  const rejected = readJsonl(path.join(dir, 'logs', 'events.jsonl')).filter((e) => e.type === 'config_rejected');
  assert.equal(rejected.length, 1);
  assert.match(rejected[0]!.reason, /calibration/);
});
