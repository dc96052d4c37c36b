/** Loading JSON Lines into DuckDB: each of the three paths, and malformed lines counted exactly. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { cleanFile } from '../../src/report/clean-lines.js';
import type { Columns } from '../../src/report/columns.js';
import { createJsonLinesTable, loadJsonLines, scalar } from '../../src/report/jsonl.js';
import { tempDir } from './helpers.js';

const COLUMNS: Columns = { time: 'DOUBLE', msg: 'VARCHAR', nested: { score: 'DOUBLE' } };
const OPTS = { columns: COLUMNS, select: 'time, msg, nested.score AS score', batch: 0, suspect: 'time IS NULL AND msg IS NULL AND score IS NULL' };

async function load(t: Parameters<typeof tempDir>[0], name: string, lines: string[], skip: ('typed' | 'objects')[] = []) {
  const dir = tempDir(t);
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  t.after(() => {
    conn.closeSync();
    db.closeSync();
  });
  await createJsonLinesTable(conn, 't', COLUMNS, OPTS.select);
  const res = await loadJsonLines(conn, 't', [file], { ...OPTS, skip });
  return { res, rows: await scalar(conn, 'SELECT count(*) FROM t'), scores: await scalar(conn, 'SELECT sum(score) FROM t'), file };
}

const good = ['{"time":1,"msg":"a","nested":{"score":0.5}}', '{"time":2,"msg":"b","nested":{"score":1.5}}'];

test('clean files take the typed reader and count nothing', async (t) => {
  const r = await load(t, 'a.jsonl', [...good, '', '  ']);
  assert.deepEqual(r.res, { malformed: 0, path: 'typed' });
  assert.equal(r.rows, 2);
  assert.equal(r.scores, 2);
});

test('broken lines on the typed path are counted exactly and their NULL rows dropped', async (t) => {
  const r = await load(t, 'b.jsonl', [good[0]!, 'not json', '[1,2]', '7', '{"other":true}', '{"time":3} trailing', good[1]!]);
  assert.deepEqual(r.res, { malformed: 4, path: 'typed' });
  assert.equal(r.rows, 2);
});

test('an object split over two lines makes the typed reader give up: the tolerant reader counts it', async (t) => {
  const r = await load(t, 'c.jsonl', [good[0]!, '{', '}', good[1]!]);
  assert.deepEqual(r.res, { malformed: 2, path: 'objects' });
  assert.equal(r.rows, 2);
  assert.equal(r.scores, 2);
});

test('when neither DuckDB reader copes, the file is cleaned in Node (JSON.parse per line)', async (t) => {
  const r = await load(t, 'pairs[1].jsonl', [good[0]!, 'oops', '{', '}', '{"x":1}', good[1]!], ['typed', 'objects']);
  assert.deepEqual(r.res, { malformed: 3, path: 'cleaned' });
  assert.equal(r.rows, 2);
  assert.equal(r.scores, 2);
  assert.deepEqual(await cleanFile(r.file, null), { malformed: 3, objects: 3 });
});
