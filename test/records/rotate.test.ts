import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { scoreBehaviour, startUpstream } from '../helpers/upstream.js';
import { readJsonl, startProxy, tempDir, testConfig } from '../helpers/proxy.js';

test('logging.rotate: pair records roll over into numbered files, none lost or duplicated', async (t) => {
  const ch = await startUpstream(scoreBehaviour(0.8));
  const cl = await startUpstream(scoreBehaviour(0.3));
  t.after(() => ch.close());
  t.after(() => cl.close());
  const dir = tempDir();
  const p = await startProxy(testConfig(ch.url, cl.url, dir, { logging: { dir, rotate: { size: '2k' } } }));
  const n = 120;
  for (let i = 0; i < n; i += 10) {
    await Promise.all(Array.from({ length: 10 }, async (_, k) => {
      const res = await request(p.url + '/predict', { method: 'POST', headers: { 'x-user-id': `u-${i + k}`, 'x-request-id': `r-${i + k}` }, body: '{}' });
      await res.body.text();
    }));
  }
  await p.shutdown();
  const files = fs.readdirSync(dir).filter((f) => /^pairs\.\d+\.jsonl$/.test(f)).sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
  assert.ok(files.length >= 3, `rotated files: ${files.join(', ')}`);
  assert.equal(fs.existsSync(path.join(dir, 'pairs.jsonl')), false);
  const records = files.flatMap((f) => readJsonl(path.join(dir, f)));
  assert.equal(records.length, n);
  assert.equal(new Set(records.map((r) => r.requestId)).size, n);
});
