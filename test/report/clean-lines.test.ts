/**
 * The Node path of the loader (clean-lines.ts) writes the object lines DuckDB then reads. Beyond the
 * write stream's buffer, a write reports back-pressure; each line must still end in its own newline.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { cleanFile } from '../../src/report/clean-lines.js';
import { createJsonLinesTable, loadJsonLines, scalar } from '../../src/report/jsonl.js';
import { tempDir } from './helpers.js';

/** 4000 object lines of about 90 bytes, with a broken one every 500: far past a write stream's 16 KiB buffer. */
function manyLines(dir: string): { file: string; objects: string[] } {
  const objects: string[] = [];
  const lines: string[] = [];
  for (let i = 0; i < 4000; i++) {
    const o = JSON.stringify({ time: i, msg: 'pair', nested: { score: i / 4000 }, pad: 'x'.repeat(i % 40) });
    objects.push(o);
    lines.push(o);
    if (i % 500 === 0) lines.push('{"cut');
  }
  const file = path.join(dir, 'pairs.jsonl');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return { file, objects };
}

test('cleanFile under back-pressure: a newline skipped when the stream filled up joined two records into one broken line', async (t) => {
  const dir = tempDir(t);
  const { file, objects } = manyLines(dir);
  const out = path.join(dir, 'clean.jsonl');
  assert.deepEqual(await cleanFile(file, out), { malformed: 8, objects: 4000 });
  assert.deepEqual(fs.readFileSync(out, 'utf8').split('\n'), [...objects, '']);
});

test('the loader\'s Node path loads every record of a file past the write buffer (none lost to joined lines)', async (t) => {
  const dir = tempDir(t);
  const { file } = manyLines(dir);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  t.after(() => {
    conn.closeSync();
    db.closeSync();
  });
  const columns = { time: 'DOUBLE', msg: 'VARCHAR', nested: { score: 'DOUBLE' } } as const;
  await createJsonLinesTable(conn, 't', columns, 'time, msg, nested.score AS score');
  const res = await loadJsonLines(conn, 't', [file], {
    columns, select: 'time, msg, nested.score AS score', batch: 0, suspect: 'time IS NULL AND msg IS NULL AND score IS NULL', skip: ['typed', 'objects'],
  });
  assert.deepEqual(res, { malformed: 8, path: 'cleaned' });
  assert.equal(await scalar(conn, 'SELECT count(*) FROM t'), 4000);
  assert.equal(await scalar(conn, 'SELECT count(DISTINCT time) FROM t'), 4000);
});
