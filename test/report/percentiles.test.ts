import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import { percentiles, percentilesBy } from '../../src/report/percentiles.js';
import { nums, queriesOn } from '../../src/report/sql.js';

const PS = [0, 0.01, 0.1, 0.25, 1 / 3, 0.5, 0.9, 0.95, 0.99, 0.999, 1];

test("percentiles by sorting equal DuckDB's quantile_cont to the last digit, per group, with ties, negatives and NULLs", async (t) => {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  t.after(() => {
    conn.closeSync();
    db.closeSync();
  });
  const q = queriesOn(conn);
  // Groups of 0 to 2 000 values: a coarse grid half of the time (ties), wide ranges, a few NULLs.
  await q.run(`CREATE TABLE v AS SELECT (hash(i) % 23)::INTEGER AS g,
      CASE WHEN hash(i * 7) % 17 = 0 THEN NULL
           WHEN hash(i * 3) % 2 = 0 THEN round((hash(i * 5) % 1000) / 100.0, 1)
           ELSE ((hash(i * 11) % 2000001)::DOUBLE - 1000000) / 7.0 END AS x
    FROM range(20000) r(i) WHERE hash(i) % 23 <> 5`);
  const expected = await q.rows(`SELECT g, quantile_cont(x, [${PS.join(', ')}]) AS q FROM v GROUP BY g`);
  // By the sort, and with the values held (quantile_cont itself): the same.
  for (const held of [0, 1e9]) {
    const got = await percentilesBy(q, { from: 'v', key: 'g', value: 'x' }, PS, [], held);
    assert.equal(got.size, expected.length);
    for (const e of expected) assert.deepEqual(got.get(e.g), nums(e.q), `group ${String(e.g)}, held ${held}`);
  }
  // One group, a condition and a parameter; a group with no value gives nulls, as the aggregate does.
  const [all] = await q.rows(`SELECT quantile_cont(x, [${PS.join(', ')}]) AS q FROM v WHERE g < $1`, [10]);
  assert.deepEqual(await percentiles(q, { from: 'v', where: 'g < $1', value: 'x' }, PS, [10]), nums(all!.q));
  assert.deepEqual(await percentiles(q, { from: 'v', where: 'g = 5', value: 'x' }, [0.5, 0.9]), [null, null]);
  // One value: every percentile is that value.
  assert.deepEqual(await percentiles(q, { from: '(SELECT 2.5 AS x)', value: 'x' }, [0, 0.5, 1]), [2.5, 2.5, 2.5]);
});
