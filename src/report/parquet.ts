/**
 * Reading compacted pair records (docs/records.md, "Records at scale") into the report's `pairs`
 * table, through the same projection as JSONL. Each file is checked first, from its footer alone:
 * one that cannot be read (truncated), holds another schema, or holds another number of rows than its
 * manifest lists is named, skipped and counted in `malformedLines` (its listed rows, else 1), or with
 * `strict` fails the report.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { PAIR_PARQUET_COLUMNS } from '../compact/schema.js';
import { CCR_ERR_INPUT } from '../errors.js';
import { emptyRow } from './columns.js';
import type { ParquetInput } from './sources.js';
import { literalPath } from './jsonl.js';
import { count, queriesOn, runSql } from './sql.js';

/** Column name → DuckDB type, as DuckDB spells it for the compacted schema. */
async function expectedTypes(conn: DuckDBConnection): Promise<Map<string, string>> {
  const rows = await queriesOn(conn).rows(`DESCRIBE SELECT ${emptyRow(PAIR_PARQUET_COLUMNS)}`);
  return new Map(rows.map((r) => [String(r.column_name), String(r.column_type)]));
}

/** Why `file` cannot be read as compacted pair records, or null when it can. */
async function problemOf(conn: DuckDBConnection, p: ParquetInput, expected: Map<string, string>): Promise<string | null> {
  const q = queriesOn(conn);
  const list = [[literalPath(p.file)]];
  let columns: Map<string, string>;
  let rows: number;
  try {
    columns = new Map((await q.rows(`DESCRIBE SELECT * FROM read_parquet($1)`, list)).map((r) => [String(r.column_name), String(r.column_type)]));
    rows = count((await q.one(`SELECT sum(num_rows) AS n FROM parquet_file_metadata($1)`, list)).n);
  } catch (err) {
    return `not a readable Parquet file (${(err as Error).message.split('\n')[0]})`;
  }
  for (const [name, type] of expected) {
    const got = columns.get(name);
    if (got !== type) return `another schema: column ${JSON.stringify(name)} is ${got ?? 'missing'}, expected ${type}`;
  }
  if (p.rows !== null && rows !== p.rows) return `holds ${rows} rows where its manifest lists ${p.rows}`;
  return null;
}

export interface ParquetLoad {
  malformed: number;
  notices: string[];
  rows: number;
}

/** Appends the records of `files` to `table` as `select` projects them; see the module comment for bad files. */
export async function loadParquet(conn: DuckDBConnection, table: string, files: readonly ParquetInput[], select: string,
  strict: boolean): Promise<ParquetLoad> {
  const out: ParquetLoad = { malformed: 0, notices: [], rows: 0 };
  if (files.length === 0) return out;
  const expected = await expectedTypes(conn);
  const good: string[] = [];
  for (const p of files) {
    const problem = await problemOf(conn, p, expected);
    if (problem === null) {
      good.push(literalPath(p.file));
      out.rows += p.rows ?? 0;
      continue;
    }
    if (strict) throw new CCR_ERR_INPUT(`${p.file}: ${problem}`);
    out.malformed += p.rows ?? 1;
    out.notices.push(`${p.file}: ${problem}; skipped, counted in malformedLines`);
  }
  if (good.length === 0) return out;
  // No figure depends on the order of pair records (tables.ts).
  await conn.run('SET SESSION preserve_insertion_order = false');
  try {
    await runSql(conn, `INSERT INTO ${table} SELECT 0 AS batch, ${select} FROM read_parquet($1)`, [good]);
  } finally {
    await conn.run('RESET SESSION preserve_insertion_order');
  }
  return out;
}
