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
  return `[${findLogFiles(dir).pairs.map((f) => sqlString(literalPath(f))).join(', ')}]`;
}

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
