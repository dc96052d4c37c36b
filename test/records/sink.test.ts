import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openSink } from '../../src/records/sink.js';
import { tempDir } from '../helpers/proxy.js';

/** A serializer for plain records (the pair sink's is pairLine). */
const line = (r: object, time: number) => JSON.stringify({ time, ...r }) + '\n';
const lines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

test('pair sink: a few records (far below the write buffer) reach the file without more traffic and before close', async (t) => {
  const file = path.join(tempDir(), 'pairs.jsonl');
  const sink = await openSink(file, { line });
  t.after(() => sink.close());
  const before = Date.now();
  sink.write({ requestId: 'r-1', group: 'champion' }, 'pair');
  sink.write({ requestId: 'r-2', group: 'challenger' }, 'pair');
  // The periodic flush writes them; give it a few of its periods.
  for (let i = 0; i < 50 && lines(file).length < 2; i++) await sleep(100);
  const got = lines(file).map((l) => JSON.parse(l) as { requestId: string; group: string; time: number });
  assert.deepEqual(got.map((r) => [r.requestId, r.group]), [['r-1', 'champion'], ['r-2', 'challenger']]);
  // Each line is stamped with the time it was written, in epoch ms.
  for (const r of got) assert.ok(r.time >= before && r.time <= Date.now(), `time ${r.time}`);
});

test('pair sink: many records in one burst are all written once, in order, and close() flushes the rest', async () => {
  const file = path.join(tempDir(), 'pairs.jsonl');
  const sink = await openSink(file, { line });
  const n = 8000; // ~300 KB: several buffered writes, and a write in flight while more arrives
  for (let i = 0; i < n; i++) sink.write({ requestId: `r-${i}`, pad: 'x'.repeat(i % 50) }, 'pair');
  await sink.close();
  const ids = lines(file).map((l) => (JSON.parse(l) as { requestId: string }).requestId);
  assert.equal(ids.length, n);
  assert.deepEqual(ids, Array.from({ length: n }, (_, i) => `r-${i}`));
});
