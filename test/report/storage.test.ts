import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport } from '../../src/report/build.js';
import { storesOnDisk } from '../../src/report/database.js';
import { assertSameReport, randomLogs, tempDir, writeLogs } from './helpers.js';

test('records stored in a database file give the report of records stored in memory', async (t) => {
  const dir = tempDir(t);
  const d = randomLogs(11, 1500);
  writeLogs(dir, { 'pairs.jsonl': d.pairs, 'outcomes.jsonl': d.outcomes, 'events.jsonl': d.events });
  for (const segment of [undefined, 'country']) {
    const opts = { logs: dir, ...(segment ? { segment } : {}) };
    const inMemory = await buildReport({ ...opts, storage: 'memory' });
    assertSameReport(await buildReport({ ...opts, storage: 'disk' }), inMemory, `segment ${segment ?? 'none'}`);
  }
});

test('records go to disk once they would fill half of the engine share of --memory', () => {
  const gib = 1024 ** 3;
  // The default 2 GiB leaves DuckDB 1.2 GiB: in memory up to about 0.9 GB of JSONL.
  assert.equal(storesOnDisk(2 * gib, { jsonl: 0.9e9, parquet: 0 }), false);
  assert.equal(storesOnDisk(2 * gib, { jsonl: 1.0e9, parquet: 0 }), true);
  // Parquet is a twentieth of its JSONL and grows back to it when stored.
  assert.equal(storesOnDisk(2 * gib, { jsonl: 0, parquet: 45e6 }), false);
  assert.equal(storesOnDisk(2 * gib, { jsonl: 0, parquet: 50e6 }), true);
  assert.equal(storesOnDisk(8 * gib, { jsonl: 3.5e9, parquet: 0 }), false);
});

test('a report at a small --memory completes: the pairs and the outcomes are loaded one after the other', async (t) => {
  const dir = tempDir(t);
  const d = randomLogs(5, 16_800);
  writeLogs(dir, { 'pairs.jsonl': d.pairs, 'outcomes.jsonl': d.outcomes, 'events.jsonl': d.events });
  const expected = await buildReport({ logs: dir });
  // Loaded side by side, the two JSON readers' buffers alone were more than DuckDB's share of 160m.
  for (const storage of ['memory', 'disk'] as const) {
    assertSameReport(await buildReport({ logs: dir, memory: 160 * 1024 ** 2, storage }), expected, storage);
  }
});
