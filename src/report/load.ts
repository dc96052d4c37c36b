/**
 * Reads a log directory into DuckDB (SPEC 6, 8): pair records, events and outcomes, and defines the
 * views every section of the report queries:
 *
 *   pairs      every line of the pair files, flattened at load: c_* = champion, h_* = challenger,
 *              `seg` with a segment field
 *   pair_rows  pair records in the time window (rejected ones included)
 *   rec        pair records in the window without a top-level `error`
 *   outcomes   outcome lines with their parsed label `y` (null = rejected), in file/line order
 *   events     event lines
 *   label_req, label_unit   the latest valid label per requestId, per unit
 *   labelled   rec joined with its label (requestId first, else unit), once `store.labelled` resolves
 *
 * `calibrate` (SPEC 9) reuses this through {@link labelledScores}. The load steps are exported
 * for bench/report/phases.ts, which times them one by one.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { CCR_ERR_INPUT, CCR_ERR_USAGE } from '../errors.js';
import { findLogFiles, type LogFiles } from './files.js';
import { createJsonLinesTable, loadJsonLines, scalar } from './jsonl.js';
import { EVENT_COLUMNS, EVENT_SELECT, MAX_TIME, OUTCOME_COLUMNS, OUTCOME_SELECT, pairColumns, pairSelect } from './schema.js';
import { count, QueryPool, queriesOn, sqlNumber } from './sql.js';

export interface LoadOptions {
  /** The log directory (`--logs`). */
  logs: string;
  /** Extra outcome files, read after `DIR/outcomes.jsonl`, later lines winning. */
  outcomes?: readonly string[];
  /** Epoch ms; a record counts when since ≤ time < until. */
  since?: number;
  until?: number;
  /** Group by `fields.<segment>`. */
  segment?: string;
  /** Phases and file counts, for a progress line. */
  onProgress?: (message: string) => void;
  /** Lines longer than this many bytes count as malformed (default 256 MiB; tests lower it). */
  maxLineBytes?: number;
}

export interface LogStore {
  /** The connection that loaded the logs. */
  conn: DuckDBConnection;
  /** A few connections to the same database, for independent queries run together. */
  db: QueryPool;
  /** Resolves once the `labelled` table exists (it is built while other queries run). */
  labelled: Promise<void>;
  files: LogFiles;
  malformedLines: number;
  outcomes: { accepted: number; rejected: number };
  /** Waits for running queries, then releases the database. */
  close(): Promise<void>;
}

/** Pair files into `pairs`; returns the malformed line count. Exported for bench/report/phases.ts. */
export async function loadPairs(conn: DuckDBConnection, files: LogFiles, segment: string | undefined, maxLineBytes?: number): Promise<number> {
  const columns = pairColumns(segment !== undefined);
  const select = pairSelect(segment);
  await createJsonLinesTable(conn, 'pairs', columns, select);
  const r = await loadJsonLines(conn, 'pairs', files.pairs, {
    columns,
    select,
    batch: 0,
    // No figure depends on the order of pair records; stored in file order, each small rotated
    // file would cost its own storage blocks.
    unordered: true,
    ...(maxLineBytes !== undefined ? { maxLineBytes } : {}),
    suspect: 'NOT is_pair AND NOT rejected AND time IS NULL AND requestId IS NULL AND config IS NULL AND grp IS NULL',
  });
  return r.malformed;
}

/**
 * Events and outcomes, and the label lookups built from the outcomes (a line labels its request
 * when it names one, else its unit; the latest line wins). Returns the malformed line count.
 */
export async function loadEventsAndOutcomes(conn: DuckDBConnection, files: LogFiles, maxLineBytes?: number): Promise<number> {
  let malformed = 0;
  const limit = maxLineBytes !== undefined ? { maxLineBytes } : {};
  await createJsonLinesTable(conn, 'events', EVENT_COLUMNS, EVENT_SELECT);
  if (files.events) {
    malformed += (await loadJsonLines(conn, 'events', [files.events], {
      columns: EVENT_COLUMNS,
      select: EVENT_SELECT,
      batch: 0,
      ...limit,
      suspect: 'time IS NULL AND msg IS NULL AND type IS NULL AND config IS NULL AND control IS NULL AND challenger IS NULL',
    })).malformed;
  }
  await createJsonLinesTable(conn, 'outcomes', OUTCOME_COLUMNS, OUTCOME_SELECT);
  for (const [i, file] of files.outcomes.entries()) {
    // One batch per file: (batch, rowid) is the order in which later lines win.
    malformed += (await loadJsonLines(conn, 'outcomes', [file], {
      columns: OUTCOME_COLUMNS,
      select: OUTCOME_SELECT,
      batch: i,
      ...limit,
      suspect: 'rid IS NULL AND unit IS NULL AND NOT has_label AND msg IS NULL AND time IS NULL',
    })).malformed;
  }
  const valid = 'is_outcome AND y IS NOT NULL';
  await conn.run(`CREATE OR REPLACE TABLE label_req AS
    SELECT rid, arg_max(y, {'b': batch, 's': rowid}) AS y FROM outcomes
    WHERE ${valid} AND rid IS NOT NULL GROUP BY rid`);
  await conn.run(`CREATE OR REPLACE TABLE label_unit AS
    SELECT unit, arg_max(y, {'b': batch, 's': rowid}) AS y FROM outcomes
    WHERE ${valid} AND rid IS NULL AND unit IS NOT NULL GROUP BY unit`);
  return malformed;
}

/** Options from an API caller get the checks the command line gives flags (CCR_ERR_USAGE naming the flag). */
function checkOptions(opts: LoadOptions): void {
  for (const [flag, t] of [['--since', opts.since], ['--until', opts.until]] as const) {
    if (t !== undefined && !(typeof t === 'number' && Number.isFinite(t) && Math.abs(t) <= MAX_TIME)) {
      throw new CCR_ERR_USAGE(`${flag}: must be epoch milliseconds within ±${MAX_TIME}, got ${String(t)}`);
    }
  }
  if (opts.segment !== undefined && (opts.segment === '' || opts.segment.includes('\0'))) {
    throw new CCR_ERR_USAGE(`--segment: needs a field name without NUL characters, got ${JSON.stringify(opts.segment)}`);
  }
}

/** Opens the logs: reads every file, defines the views. Throws CCR_ERR_INPUT on unusable input. */
export async function openLogs(opts: LoadOptions): Promise<LogStore> {
  checkOptions(opts);
  const files = findLogFiles(opts.logs, opts.outcomes ?? []);
  const progress = opts.onProgress ?? (() => {});
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const side = await instance.connect();
  let pool: QueryPool | null = null;
  let labelled: Promise<void> = Promise.resolve();
  const close = async () => {
    await labelled.catch(() => undefined);
    await pool?.close();
    side.closeSync();
    conn.closeSync();
    instance.closeSync();
  };
  try {
    progress(`reading logs… ${files.pairs.length} pair file${files.pairs.length === 1 ? '' : 's'}, ` +
      `${files.outcomes.length} outcome file${files.outcomes.length === 1 ? '' : 's'}`);
    // Outcomes and labels load beside the pairs: they do not need them, and the pair reader
    // leaves gaps (file boundaries, its final append) another query can fill.
    const [pairsMalformed, otherMalformed] = await Promise.all([
      loadPairs(conn, files, opts.segment, opts.maxLineBytes),
      loadEventsAndOutcomes(side, files, opts.maxLineBytes),
    ]);
    await defineViews(conn, opts);
    const { one } = queriesOn(conn);
    const totals = await one(`SELECT count(*) AS n, count(*) FILTER (WHERE rejected) AS rejected FROM pair_rows`);
    const n = count(totals.n);
    if (n === count(totals.rejected)) {
      const where = opts.since !== undefined || opts.until !== undefined ? ' in the --since/--until window' : '';
      throw new CCR_ERR_INPUT(
        n === 0
          ? `--logs ${opts.logs}: no pair records${where}`
          : `--logs ${opts.logs}: all ${n} pair records${where} are rejected requests (top-level error); nothing to compare`,
      );
    }
    if (opts.segment !== undefined && (await scalar(conn, `SELECT count(*) FROM rec WHERE has_seg`)) === 0) {
      throw new CCR_ERR_INPUT(`--segment ${opts.segment}: no record has fields.${opts.segment}`);
    }
    const oc = await one(`SELECT count(*) FILTER (WHERE y IS NOT NULL AND (rid IS NOT NULL OR unit IS NOT NULL)) AS ok,
      count(*) AS n FROM outcomes WHERE is_outcome`);
    // The label join runs while the first section queries scan the records.
    labelled = joinLabels(conn, opts.segment !== undefined);
    labelled.catch(() => undefined); // awaited by the label queries; not unhandled meanwhile
    // Three connections on two cores: a query in a single-threaded phase (a quantile's
    // finalize, a window sort) leaves room for another.
    pool = await QueryPool.create(instance, 3);
    return {
      conn,
      db: pool,
      labelled,
      files,
      malformedLines: pairsMalformed + otherMalformed,
      outcomes: { accepted: count(oc.ok), rejected: count(oc.n) - count(oc.ok) },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export async function defineViews(conn: DuckDBConnection, opts: LoadOptions): Promise<void> {
  const window = [
    'is_pair',
    ...(opts.since !== undefined ? [`time >= ${sqlNumber(opts.since)}`] : []),
    ...(opts.until !== undefined ? [`time < ${sqlNumber(opts.until)}`] : []),
  ].join(' AND ');
  await conn.run(`CREATE OR REPLACE VIEW pair_rows AS SELECT * FROM pairs WHERE ${window}`);
  await conn.run(`CREATE OR REPLACE VIEW rec AS SELECT * FROM pairs WHERE ${window} AND NOT rejected`);
}

/** `labelled`: each record with its label, requestId first, else unit (definition 5). */
export async function joinLabels(conn: DuckDBConnection, segmented: boolean): Promise<void> {
  // Narrow on purpose: only what label figures use (materializing wide rows is what costs).
  await conn.run(`CREATE OR REPLACE TABLE labelled AS
    SELECT r.grp, r.c_score, r.c_dec, r.c_norm, r.h_score, r.h_dec, r.h_norm,
      ${segmented ? 'r.seg, ' : ''}coalesce(lr.y, lu.y) AS label FROM rec r
    LEFT JOIN label_req lr ON r.requestId = lr.rid
    LEFT JOIN label_unit lu ON r.unit = lu.unit
    WHERE coalesce(lr.y, lu.y) IS NOT NULL`);
}

export interface LabelledScore {
  version: string;
  role: 'champion' | 'challenger';
  score: number;
  label: 0 | 1;
}

/**
 * Every labelled (version, role, score, label) row in the logs, labels joined as in SPEC 8.5 —
 * the input of `calibrate` (SPEC 9). Rows stream in chunks; the store is closed at the end.
 */
export async function* labelledScores(opts: LoadOptions): AsyncGenerator<LabelledScore> {
  const store = await openLogs(opts);
  try {
    await store.labelled;
    // Its own join: versions are not in `labelled`, which holds only what the report's figures read.
    const result = await store.conn.stream(`
      WITH l AS (SELECT r.c_version, r.c_score, r.h_version, r.h_score, coalesce(lr.y, lu.y) AS label FROM rec r
        LEFT JOIN label_req lr ON r.requestId = lr.rid
        LEFT JOIN label_unit lu ON r.unit = lu.unit
        WHERE coalesce(lr.y, lu.y) IS NOT NULL)
      SELECT c_version AS version, 'champion' AS role, c_score AS score, label FROM l
        WHERE c_score IS NOT NULL AND c_version IS NOT NULL
      UNION ALL
      SELECT h_version, 'challenger', h_score, label FROM l
        WHERE h_score IS NOT NULL AND h_version IS NOT NULL`);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      for (const row of chunk.getRows()) {
        yield { version: String(row[0]), role: row[1] as LabelledScore['role'], score: Number(row[2]), label: Number(row[3]) as 0 | 1 };
      }
    }
  } finally {
    await store.close();
  }
}
