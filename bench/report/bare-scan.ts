/**
 * The reference every report timing is compared with: DuckDB reading the same pair files with no
 * schema given and nothing else (a count and one average), on a fresh in-memory database.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { findLogFiles } from '../../src/report/files.js';
import { literalPath } from '../../src/report/jsonl.js';
import { sqlString } from '../../src/report/sql.js';

/**
 * The pair files the report reads, as a DuckDB list literal: each path literal, so that a `[`, `*`
 * or `?` in the directory's name is not read as a pattern.
 */
export function pairFileList(dir: string): string {
  return fileList(findLogFiles(dir).pairs);
}

const fileList = (files: readonly string[]): string => `[${files.map((f) => sqlString(literalPath(f))).join(', ')}]`;

export const bareScanSql = (dir: string): string =>
  `SELECT count(*), avg(champion.latencyMs) FROM read_json_auto(${pairFileList(dir)})`;

/** Runs `fn` on a connection to a fresh in-memory database, released afterwards. */
export async function withFreshDb<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    return await fn(conn);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/**
 * What an approximate report would read, in one pass over the same files (docs/benchmarks.md,
 * "Report at scale"): the outcomes joined on the request id while the pairs are read, then per
 * group and per hour approximate latency and score quantiles (t-digest), error and decision
 * counts, agreement and score correlation, and score histograms by label (what an approximate AUC
 * needs). Nothing is stored. It measures the cost of that design; it is not a report. Without
 * `labels` the outcomes are not read; without `hours` there is no per-hour grouping: what each part
 * costs (sketch.ts --parts).
 */
export function sketchScanSql(dir: string, parts: { labels: boolean; hours: boolean } = { labels: true, hours: true }): string {
  const { outcomes } = findLogFiles(dir);
  const model = 'STRUCT(latencyMs DOUBLE, score DOUBLE, decision BOOLEAN, error VARCHAR)';
  const q = (col: string) => `approx_quantile(${col}, [0.5, 0.9, 0.95, 0.99])`;
  const deciles = (col: string) => `approx_quantile(${col}, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])`;
  const hist = (col: string, label: number) => `histogram(floor(${col} * 1000)) FILTER (label = ${label})`;
  const labels = outcomes.length === 0 || !parts.labels ? 'SELECT NULL::VARCHAR AS requestId, NULL::INTEGER AS label' :
    `SELECT requestId, arg_max(label, time) AS label
       FROM read_json(${fileList(outcomes)},
         columns = {msg: 'VARCHAR', time: 'BIGINT', requestId: 'VARCHAR', label: 'INTEGER'})
      WHERE msg = 'outcome' GROUP BY requestId`;
  return `WITH o AS (${labels}),
    p AS (SELECT requestId, time // 3600000 AS hour, "group" AS grp, agree,
                 champion.latencyMs AS cl, challenger.latencyMs AS hl, champion.score AS cs, challenger.score AS hs,
                 champion.decision AS cd, challenger.decision AS hd, champion.error AS ce, challenger.error AS he
            FROM read_json(${pairFileList(dir)}, columns = {requestId: 'VARCHAR', time: 'BIGINT', "group": 'VARCHAR',
                 agree: 'BOOLEAN', champion: '${model}', challenger: '${model}'}))
    SELECT grp, ${parts.hours ? 'hour' : 'NULL AS hour'}, count(*), ${q('cl')}, ${q('hl')}, ${deciles('cs')}, ${deciles('hs')}, count(ce), count(he),
           avg(agree::INTEGER), corr(cs, hs),
           count(*) FILTER (cd AND label = 1), count(*) FILTER (cd AND label = 0),
           count(*) FILTER (hd AND label = 1), count(*) FILTER (hd AND label = 0),
           ${hist('cs', 1)}, ${hist('cs', 0)}, ${hist('hs', 1)}, ${hist('hs', 0)}
      FROM p LEFT JOIN o USING (requestId)
     GROUP BY GROUPING SETS ((grp)${parts.hours ? ', (grp, hour)' : ''})`;
}
