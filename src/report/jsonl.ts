/**
 * Loading JSON Lines files into a DuckDB table while counting malformed lines (SPEC 8:
 * `malformedLines` = non-blank lines that are not a JSON object; never fatal).
 *
 * Three paths, fastest first, because DuckDB's typed NDJSON reader is as fast as a bare scan but
 * gives up on a few shapes of broken input (an object split over two lines makes it throw even with
 * `ignore_errors`), and it reads a broken line as a row of NULLs, which it cannot tell apart from an
 * object without the columns asked for:
 *   1. `read_json` with the typed columns. If no row looks broken (the caller's `suspect` predicate,
 *      e.g. "no time and no msg", which every ccrouter line has), nothing was malformed. Otherwise the
 *      malformed lines are counted exactly with `read_ndjson_objects`, which classifies every line.
 *   2. If 1 throws: `read_ndjson_objects` (one JSON value per line, NULL when unparsable) transformed
 *      to the same columns.
 *   3. If 2 throws too: the file is cleaned line by line in Node (JSON.parse) into a temporary file
 *      holding only the object lines, then read as in 1.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from './sql.js';

/** A DuckDB type name, or a nested object for a STRUCT. */
export type Shape = string | { readonly [key: string]: Shape };
export type Columns = { readonly [key: string]: Shape };

// Record lines may carry request/response bodies (logging.bodies); DuckDB's default is 16 MiB.
const MAX_OBJECT = 256 * 1024 * 1024;

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

function typeSql(shape: Shape): string {
  if (typeof shape === 'string') return shape;
  return `STRUCT(${Object.entries(shape).map(([k, v]) => `${ident(k)} ${typeSql(v)}`).join(', ')})`;
}

/**
 * Creates the temporary table `loadJsonLines` fills: `batch`, then the columns of `select` evaluated
 * over the raw `columns` (the types come from DuckDB itself, from an empty typed row).
 */
export async function createJsonLinesTable(conn: DuckDBConnection, table: string, columns: Columns, select = '*'): Promise<void> {
  const empty = Object.entries(columns).map(([k, v]) => `CAST(NULL AS ${typeSql(v)}) AS ${ident(k)}`).join(', ');
  await conn.run(`CREATE OR REPLACE TABLE ${table} AS SELECT 0::INTEGER AS batch, ${select} FROM (SELECT ${empty}) LIMIT 0`);
}

/** `read_json(columns = {...})` argument (exported for bench/report/phases.ts). */
export function readJsonColumns(columns: Columns): string {
  return `{${Object.entries(columns).map(([k, v]) => `${sqlString(k)}: ${sqlString(typeSql(v))}`).join(', ')}}`;
}

/** `json_transform` structure: the same shape as JSON. */
function transformStructure(columns: Columns): string {
  return sqlString(JSON.stringify(columns));
}

const fileList = (files: readonly string[]): string => `[${files.map(sqlString).join(', ')}]`;

export interface LoadJsonLinesOptions {
  /** Columns (with DuckDB types) read from each line. */
  columns: Columns;
  /** Projection over those columns stored in the table (default `*`): derive columns once, at load. */
  select?: string;
  /** Stored in the table's leading `batch` column: which call loaded a row (e.g. the file's rank). */
  batch: number;
  /**
   * SQL predicate over the stored columns that is true for every row a broken line could yield:
   * every column the report uses is NULL. Such rows are dropped, so an object line matching it
   * must carry nothing useful.
   */
  suspect: string;
  /** Readers not to try (tests use it to reach the Node fallback). */
  skip?: readonly ('typed' | 'objects')[];
}

export interface LoadJsonLinesResult {
  malformed: number;
  path: 'typed' | 'objects' | 'cleaned';
}

/**
 * Appends the object lines of `files` to `table` (created with {@link createJsonLinesTable}) in file
 * and line order, and counts the malformed ones.
 */
export async function loadJsonLines(
  conn: DuckDBConnection,
  table: string,
  files: readonly string[],
  opts: LoadJsonLinesOptions,
): Promise<LoadJsonLinesResult> {
  if (files.length === 0) return { malformed: 0, path: 'typed' };
  const head = `SELECT ${Math.trunc(opts.batch)} AS batch, ${opts.select ?? '*'} FROM`;
  const mine = `batch = ${Math.trunc(opts.batch)}`;
  const typed = (list: string) =>
    `read_json(${list}, format = 'newline_delimited', ignore_errors = true, ` +
    `maximum_object_size = ${MAX_OBJECT}, columns = ${readJsonColumns(opts.columns)})`;
  const objects = (list: string) =>
    `read_ndjson_objects(${list}, ignore_errors = true, maximum_object_size = ${MAX_OBJECT})`;
  const broken = `json IS NULL OR json_type(json) <> 'OBJECT'`;

  const countBroken = async (): Promise<number> => {
    try {
      return await scalar(conn, `SELECT count(*) FROM ${objects(fileList(files))} WHERE ${broken}`);
    } catch {
      let malformed = 0;
      for (const f of files) malformed += (await cleanFile(f, null)).malformed;
      return malformed;
    }
  };

  // Only the INSERTs are tried: a failed statement leaves the table as it was, so the next path
  // starts clean (a failure after a successful INSERT must not load the rows twice).
  const skip = new Set(opts.skip ?? []);
  if (!skip.has('typed') && (await attempt(conn, `INSERT INTO ${table} ${head} ${typed(fileList(files))}`))) {
    const suspects = await scalar(conn, `SELECT count(*) FROM ${table} WHERE ${mine} AND (${opts.suspect})`);
    if (suspects === 0) return { malformed: 0, path: 'typed' };
    // Some rows may come from broken lines: drop them (they carry nothing), count exactly.
    await conn.run(`DELETE FROM ${table} WHERE ${mine} AND (${opts.suspect})`);
    return { malformed: await countBroken(), path: 'typed' };
  }
  const transformed = `(SELECT unnest(json_transform(json, ${transformStructure(opts.columns)})) ` +
    `FROM ${objects(fileList(files))} WHERE NOT (${broken}))`;
  if (!skip.has('objects') && (await attempt(conn, `INSERT INTO ${table} ${head} ${transformed}`))) {
    return { malformed: await countBroken(), path: 'objects' };
  }
  // DuckDB cannot read these files at all: clean them in Node.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ccrouter-report-'));
  try {
    let malformed = 0;
    const cleaned: string[] = [];
    for (const [i, f] of files.entries()) {
      const out = path.join(tmp, `${i}.jsonl`);
      malformed += (await cleanFile(f, out)).malformed;
      cleaned.push(out);
    }
    await conn.run(`INSERT INTO ${table} ${head} ${typed(fileList(cleaned))}`);
    await conn.run(`DELETE FROM ${table} WHERE ${mine} AND (${opts.suspect})`);
    return { malformed, path: 'cleaned' };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Runs a statement; false when DuckDB refuses it (the statement then changed nothing). */
async function attempt(conn: DuckDBConnection, sql: string): Promise<boolean> {
  try {
    await conn.run(sql);
    return true;
  } catch {
    return false;
  }
}

/**
 * The reference definition of a malformed line: not blank, and JSON.parse fails or yields
 * something other than an object. Writes the object lines to `out` when given.
 */
export async function cleanFile(file: string, out: string | null): Promise<{ malformed: number; objects: number }> {
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  const sink = out ? fs.createWriteStream(out) : null;
  let malformed = 0;
  let objects = 0;
  for await (const line of rl) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      malformed++;
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      malformed++;
      continue;
    }
    objects++;
    if (sink && !sink.write(JSON.stringify(value) + '\n')) await new Promise<void>((r) => sink.once('drain', () => r()));
  }
  if (sink) await new Promise((r) => sink.end(r));
  return { malformed, objects };
}

/** The first column of the first row as a number (DuckDB returns BIGINT counts as bigint). */
export async function scalar(conn: DuckDBConnection, sql: string): Promise<number> {
  const reader = await conn.runAndReadAll(sql);
  const v = reader.getRows()[0]?.[0];
  return v === null || v === undefined ? 0 : Number(v);
}
