/**
 * Loading JSON Lines files into a DuckDB table while counting malformed lines (SPEC 8:
 * `malformedLines` = non-blank lines that are not a JSON object; never fatal).
 *
 * Three paths, fastest first, because DuckDB's typed NDJSON reader is as fast as a bare scan but
 * gives up on a few shapes of broken input (an object split over two lines makes it throw even with
 * `ignore_errors`, and so does a line longer than its `maximum_object_size`), and it reads a broken
 * line as a row of NULLs, which it cannot tell apart from an object without the columns asked for:
 *   1. `read_json` with the typed columns. If no row looks broken (the caller's `suspect` predicate,
 *      e.g. "no time and no msg", which every ccrouter line has), nothing was malformed. Otherwise the
 *      malformed lines are counted exactly with `read_ndjson_objects`, which classifies every line.
 *   2. If 1 throws: `read_ndjson_objects` (one JSON value per line, NULL when unparsable) transformed
 *      to the same columns.
 *   3. If 2 throws too: each file is tried on its own; the ones DuckDB cannot read are cleaned line by
 *      line in Node (JSON.parse) into temporary files holding only their object lines, and all are
 *      read as in 1.
 *
 * A line longer than `maxLineBytes` is malformed on every path (docs/report.md, "Limits").
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { cleanFile, MAX_LINE_BYTES } from './clean-lines.js';
import { emptyRow, readJsonColumns, transformStructure, type Columns } from './columns.js';
import { count, queriesOn, runSql, sqlInt } from './sql.js';

// A decoded line must fit in one JavaScript string (V8: 2^29 − 24 UTF-16 units; one byte yields at most one).
const LINE_CEILING = 2 ** 29 - 24;
// DuckDB reads lines up to twice its `maximum_object_size`, which it never sets below 16 MiB: so it
// is given half the limit, and a smaller limit could not be kept.
const LINE_FLOOR = 32 * 1024 * 1024;

/**
 * A file path DuckDB reads as that one file. DuckDB expands `*`, `?` and `[...]` in every path it is
 * given, even in a list, so `logs[1]/pairs.jsonl` would read `logs1/pairs.jsonl`; each of those
 * characters is written as a one-character class (`[[]`, `[*]`, `[?]`), which matches only itself.
 * The path is made absolute first: DuckDB gives a leading `~` or `scheme://` a meaning of its own.
 */
export function literalPath(file: string): string {
  return path.resolve(file).replace(/[[*?]/g, (c) => `[${c}]`);
}

/**
 * Creates the temporary table `loadJsonLines` fills: `batch`, then the columns of `select` evaluated
 * over the raw `columns` (the types come from DuckDB itself, from an empty typed row).
 */
export async function createJsonLinesTable(conn: DuckDBConnection, table: string, columns: Columns, select = '*'): Promise<void> {
  await conn.run(`CREATE OR REPLACE TABLE ${table} AS SELECT 0::INTEGER AS batch, ${select} FROM (SELECT ${emptyRow(columns)}) LIMIT 0`);
}

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
  /**
   * Rows may be stored in any order (nothing reads their `rowid`). DuckDB then packs the rows of
   * many small files together; in file order it keeps each file's rows apart, at a cost per file.
   */
  unordered?: boolean;
  /** Lines longer than this many bytes count as malformed (default {@link MAX_LINE_BYTES}). */
  maxLineBytes?: number;
  /** Readers not to try (tests use it to reach the Node fallback). */
  skip?: readonly ('typed' | 'objects')[];
}

export interface LoadJsonLinesResult {
  malformed: number;
  path: 'typed' | 'objects' | 'cleaned';
}

/**
 * Appends the object lines of `files` to `table` (created with {@link createJsonLinesTable}) in file
 * and line order (unless `unordered`), and counts the malformed ones.
 */
export async function loadJsonLines(
  conn: DuckDBConnection,
  table: string,
  files: readonly string[],
  opts: LoadJsonLinesOptions,
): Promise<LoadJsonLinesResult> {
  if (files.length === 0) return { malformed: 0, path: 'typed' };
  const maxLine = opts.maxLineBytes ?? MAX_LINE_BYTES;
  if (!Number.isSafeInteger(maxLine) || maxLine < LINE_FLOOR || maxLine > LINE_CEILING) {
    throw new Error(`maxLineBytes: must be an integer from ${LINE_FLOOR} to ${LINE_CEILING}, got ${String(maxLine)}`);
  }
  // Lines longer than the limit make DuckDB's readers throw, and the Node path counts them.
  const objectSize = sqlInt(Math.floor(maxLine / 2));
  const batch = sqlInt(opts.batch);
  const head = `SELECT ${batch} AS batch, ${opts.select ?? '*'} FROM`;
  const mine = `batch = ${batch}`;
  // `$1` is always the file list, bound as a parameter (never spliced into the SQL).
  const typed = `read_json($1, format = 'newline_delimited', ignore_errors = true, ` +
    `maximum_object_size = ${objectSize}, columns = ${readJsonColumns(opts.columns)})`;
  const objects = `read_ndjson_objects($1, ignore_errors = true, maximum_object_size = ${objectSize})`;
  const broken = `json IS NULL OR json_type(json) <> 'OBJECT'`;
  const list = (some: readonly string[]) => [some.map(literalPath)];

  const countBroken = async (some: readonly string[]): Promise<number> => {
    if (some.length === 0) return 0;
    try {
      return count((await queriesOn(conn).one(`SELECT count(*) AS n FROM ${objects} WHERE ${broken}`, list(some))).n);
    } catch {
      let malformed = 0;
      for (const f of some) malformed += (await cleanFile(f, null, maxLine)).malformed;
      return malformed;
    }
  };

  const insert = async (sql: string, params: readonly string[][]): Promise<void> => {
    if (!opts.unordered) {
      await runSql(conn, sql, params);
      return;
    }
    await conn.run('SET SESSION preserve_insertion_order = false');
    try {
      await runSql(conn, sql, params);
    } finally {
      await conn.run('RESET SESSION preserve_insertion_order');
    }
  };

  // Only the INSERTs are tried: a failed statement leaves the table as it was, so the next path
  // starts clean (a failure after a successful INSERT must not load the rows twice).
  const skip = new Set(opts.skip ?? []);
  if (!skip.has('typed') && (await attempt(() => insert(`INSERT INTO ${table} ${head} ${typed}`, list(files))))) {
    const suspects = await scalar(conn, `SELECT count(*) FROM ${table} WHERE ${mine} AND (${opts.suspect})`);
    if (suspects === 0) return { malformed: 0, path: 'typed' };
    // Some rows may come from broken lines: drop them (they carry nothing), count exactly.
    await conn.run(`DELETE FROM ${table} WHERE ${mine} AND (${opts.suspect})`);
    return { malformed: await countBroken(files), path: 'typed' };
  }
  const transformed = `(SELECT unnest(json_transform(json, ${transformStructure(opts.columns)})) ` +
    `FROM ${objects} WHERE NOT (${broken}))`;
  if (!skip.has('objects') && (await attempt(() => insert(`INSERT INTO ${table} ${head} ${transformed}`, list(files))))) {
    return { malformed: await countBroken(files), path: 'objects' };
  }
  // DuckDB cannot read some of these files: find which, clean those in Node, read all together.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ccrouter-report-'));
  try {
    const readable: string[] = [];
    const sources: string[] = [];
    let malformed = 0;
    for (const [i, f] of files.entries()) {
      const ok = !skip.has('typed') && (await attempt(() => runSql(conn, `SELECT count(*) FROM ${typed}`, list([f]))));
      if (ok) {
        readable.push(f);
        sources.push(f);
        continue;
      }
      const out = path.join(tmp, `${i}.jsonl`);
      malformed += (await cleanFile(f, out, maxLine)).malformed;
      sources.push(out);
    }
    await insert(`INSERT INTO ${table} ${head} ${typed}`, list(sources));
    await conn.run(`DELETE FROM ${table} WHERE ${mine} AND (${opts.suspect})`);
    return { malformed: malformed + (await countBroken(readable)), path: 'cleaned' };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Runs a statement; false when DuckDB refuses it (the statement then changed nothing). */
async function attempt(run: () => Promise<void>): Promise<boolean> {
  try {
    await run();
    return true;
  } catch {
    return false;
  }
}

/** The first column of the first row as a number (DuckDB returns BIGINT counts as bigint). */
export async function scalar(conn: DuckDBConnection, sql: string): Promise<number> {
  const reader = await conn.runAndReadAll(sql);
  const v = reader.getRows()[0]?.[0];
  return v === null || v === undefined ? 0 : Number(v);
}
