import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { transactions } from '../../src/demo/data.js';
import { CHALLENGER_MODEL, CHAMPION_MODEL, scoreDocument, startDemoModels } from '../../src/demo/models.js';
import { startProxy, tempDir, testConfig } from '../helpers/proxy.js';

const ROUTES = [
  { path: '/v2/models/fraud/infer', preset: 'kserve-v2' },
  { path: '/v1/models/fraud:predict', preset: 'tfserving' },
];

test('demo models answer TF Serving and KServe v2 batches; through ccrouter each instance is scored by both', async (t) => {
  const models = await startDemoModels();
  t.after(() => models.close());
  const p = await startProxy(testConfig(models.champion.url, models.challenger.url, tempDir(), { routes: ROUTES }));
  const rows = [...transactions(11, 4)].map((x) => x.body as unknown as Record<string, unknown>);
  const tf = await request(p.url + '/v1/models/fraud:predict', { method: 'POST', headers: { 'x-user-id': 'u' }, body: JSON.stringify({ instances: rows }) });
  assert.equal(tf.statusCode, 200);
  const predictions = ((await tf.body.json()) as { predictions: number[][] }).predictions;
  assert.deepEqual(predictions.map((x) => x[1]), rows.map((r) => scoreDocument(CHAMPION_MODEL, r)));
  const names = Object.keys(rows[0]!);
  const inputs = names.map((name) => ({ name, datatype: 'BYTES', shape: [rows.length], data: rows.map((r) => r[name]) }));
  const ks = await request(p.url + '/v2/models/fraud/infer', { method: 'POST', headers: { 'x-user-id': 'u' }, body: JSON.stringify({ inputs }) });
  assert.equal(ks.statusCode, 200);
  const out = ((await ks.body.json()) as { outputs: Array<{ shape: number[] }> }).outputs[0]!;
  assert.deepEqual(out.shape, [rows.length, 2]);
  const records = await p.stopAndRead();
  assert.equal(records.length, 2);
  for (const rec of records) {
    assert.equal(rec.instances, rows.length, rec.route);
    assert.deepEqual(rec.champion.scores, rows.map((r) => scoreDocument(CHAMPION_MODEL, r)), rec.route);
    assert.deepEqual(rec.challenger.scores, rows.map((r) => scoreDocument(CHALLENGER_MODEL, r)), rec.route);
  }
});
