/**
 * The tables and views a report queries, and how each is filled (docs/report.md, "What it reads"):
 *
 *   pairs       every line of the pair files (JSONL, and Parquet from `compact`), flattened at load (schema.ts)
 *   pair_rows   pair records in the time window (rejected ones included)
 *   rec         pair records in the window without a top-level `error`, one row per observation:
 *               a batch record (docs/records.md#batches) is one row per instance (see defineViews)
 *   outcomes    outcome lines with their parsed label `y` (null = rejected), in file/line order
 *   events      event lines
 *   label_inst, label_req, label_unit   the latest valid label per (requestId, instance), per
 *               requestId (lines without instance), per unit
 *   rec_label   every `rec` row with its `label` (null when it has none): the one definition of
 *               how an observation finds its label
 *   labels_all  the labelled records of `rec_label`, narrowed to what the label figures read: the
 *               label join runs once, and what counts labels per time bucket reads this table
 *   labelled    the records of `labels_all` the label figures use (the mature ones with `--mature`)
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { LogFiles } from './files.js';
import { createJsonLinesTable, loadJsonLines } from './jsonl.js';
import { loadParquet } from './parquet.js';
import { EVENTS, OUTCOMES, pairTable, type LineTable } from './schema.js';
import { sqlNumber } from './sql.js';

/** Appends `files` to `table` as `spec` reads them; returns the malformed line count. */
async function load(conn: DuckDBConnection, table: string, spec: LineTable, files: readonly string[],
  opts: { batch: number; unordered?: boolean; maxLineBytes?: number | undefined }): Promise<number> {
  const { maxLineBytes, ...rest } = opts;
  return (await loadJsonLines(conn, table, files, { ...spec, ...rest, ...(maxLineBytes !== undefined ? { maxLineBytes } : {}) })).malformed;
}

/** Pair files, JSONL and Parquet, into `pairs`; returns the malformed line count and what to tell about bad Parquet. */
export async function loadPairs(conn: DuckDBConnection, files: LogFiles, segment: string | undefined, maxLineBytes?: number,
  value?: string, strict = false): Promise<{ malformed: number; notices: string[] }> {
  const spec = pairTable(segment, value);
  await createJsonLinesTable(conn, 'pairs', spec.columns, spec.select);
  // No figure depends on the order of pair records; stored in file order, each small rotated
  // file would cost its own storage blocks.
  const jsonl = await load(conn, 'pairs', spec, files.pairs, { batch: 0, unordered: true, maxLineBytes });
  const parquet = await loadParquet(conn, 'pairs', files.parquet, spec.select, strict);
  return { malformed: jsonl + parquet.malformed + files.compactedMalformed, notices: parquet.notices };
}

/** The event file into `events`; returns the malformed line count. */
export async function loadEvents(conn: DuckDBConnection, files: LogFiles, maxLineBytes?: number): Promise<number> {
  await createJsonLinesTable(conn, 'events', EVENTS.columns, EVENTS.select);
  return load(conn, 'events', EVENTS, files.events, { batch: 0, maxLineBytes });
}

/**
 * Outcome files into `outcomes`, and the label lookups built from them (a line labels its request
 * when it names one, else its unit; the latest line wins). Returns the malformed line count.
 */
export async function loadOutcomes(conn: DuckDBConnection, files: LogFiles, maxLineBytes?: number): Promise<number> {
  let malformed = 0;
  await createJsonLinesTable(conn, 'outcomes', OUTCOMES.columns, OUTCOMES.select);
  // One batch per file: (batch, rowid) is the order in which later lines win.
  for (const [i, file] of files.outcomes.entries()) malformed += await load(conn, 'outcomes', OUTCOMES, [file], { batch: i, maxLineBytes });
  const valid = 'is_outcome AND y IS NOT NULL';
  await conn.run(`CREATE OR REPLACE TABLE label_inst AS
    SELECT rid, inst, arg_max(y, {'b': batch, 's': rowid}) AS y FROM outcomes
    WHERE ${valid} AND rid IS NOT NULL AND inst IS NOT NULL GROUP BY rid, inst`);
  await conn.run(`CREATE OR REPLACE TABLE label_req AS
    SELECT rid, arg_max(y, {'b': batch, 's': rowid}) AS y FROM outcomes
    WHERE ${valid} AND rid IS NOT NULL AND inst IS NULL GROUP BY rid`);
  await conn.run(`CREATE OR REPLACE TABLE label_unit AS
    SELECT unit, arg_max(y, {'b': batch, 's': rowid}) AS y FROM outcomes
    WHERE ${valid} AND rid IS NULL AND unit IS NOT NULL GROUP BY unit`);
  return malformed;
}

/** Epoch ms; a record counts when since ≤ time < until. */
export interface TimeWindow {
  since?: number | undefined;
  until?: number | undefined;
}

/** The views over `pairs` and the label tables (they must exist: views are checked when created). */
export async function defineViews(conn: DuckDBConnection, window: TimeWindow): Promise<void> {
  const inWindow = [
    'is_pair',
    ...(window.since !== undefined ? [`time >= ${sqlNumber(window.since)}`] : []),
    ...(window.until !== undefined ? [`time < ${sqlNumber(window.until)}`] : []),
  ].join(' AND ');
  await conn.run(`CREATE OR REPLACE VIEW pair_rows AS SELECT * FROM pairs WHERE ${inWindow}`);
  await conn.run(`CREATE OR REPLACE VIEW rec AS ${observations(inWindow + ' AND NOT rejected', await hasBatches(conn, inWindow))}`);
  // An observation's label: its instance's, else its request's, else its unit's (docs/report.md, "labels").
  await conn.run(`CREATE OR REPLACE VIEW rec_label AS SELECT r.*, coalesce(li.y, lr.y, lu.y) AS label FROM rec r
    LEFT JOIN label_inst li ON r.requestId = li.rid AND r.inst = li.inst
    LEFT JOIN label_req lr ON r.requestId = lr.rid
    LEFT JOIN label_unit lu ON r.unit = lu.unit`);
}

const BATCH_LISTS = 'c_scores, c_decs, c_norms, h_scores, h_decs, h_norms';

/** Whether any record in the window is a batch (without one, `rec` stays a plain filter over `pairs`). */
async function hasBatches(conn: DuckDBConnection, inWindow: string): Promise<boolean> {
  const r = await conn.runAndReadAll(`SELECT EXISTS (SELECT 1 FROM pairs WHERE ${inWindow} AND n_inst IS NOT NULL)`);
  return r.getRows()[0]?.[0] === true;
}

/**
 * `rec`: one row per observation (docs/report.md, "Batches"). A record of one instance is one row,
 * `inst` 0. A batch record of n instances is n rows, `inst` 0..n-1, each with that instance's score,
 * decision and normalized score in the usual columns (null where the model has none). What belongs
 * to the call — `c_called`/`h_called`, errors and their kind, latencies, `fallback`, `oor` — is
 * kept on the row of instance 0 only (the others: not called, no error, no latency), so that every
 * per-call figure reads as it did. `call` is true on that one row per record: a figure that counts
 * records or requests (records, groups, SRM, coverage, volume) counts `WHERE call`.
 */
function observations(where: string, batches: boolean): string {
  const single = `SELECT * EXCLUDE (${BATCH_LISTS}), true AS call, 0::UINTEGER AS inst FROM pairs WHERE ${where}`;
  if (!batches) return single;
  const first = (col: string, none: string) => `CASE WHEN inst = 0 THEN ${col} ELSE ${none} END AS ${col}`;
  return `${single} AND n_inst IS NULL
    UNION ALL BY NAME
    SELECT * EXCLUDE (${BATCH_LISTS}) REPLACE (
        c_scores[inst + 1] AS c_score, c_decs[inst + 1] AS c_dec, c_norms[inst + 1] AS c_norm,
        h_scores[inst + 1] AS h_score, h_decs[inst + 1] AS h_dec, h_norms[inst + 1] AS h_norm,
        ${['c_called', 'h_called', 'c_err', 'h_err', 'fallback'].map((c) => first(c, 'false')).join(', ')},
        ${['c_kind', 'h_kind', 'c_lat', 'h_lat'].map((c) => first(c, 'NULL')).join(', ')},
        ${first('oor', '0')}),
      inst = 0 AS call
    FROM (SELECT *, unnest(range(n_inst))::UINTEGER AS inst FROM pairs WHERE ${where} AND n_inst IS NOT NULL)`;
}

/**
 * `labels_all` and `labelled`: narrow on purpose, only what label figures use (materializing wide
 * rows is what costs). With `matureMs`, `labelled` keeps only records older than the window's last
 * record by that much (docs/report.md, "maturity").
 */
export async function joinLabels(conn: DuckDBConnection, segmented: boolean, valued = false, matureMs?: number): Promise<void> {
  await conn.run(`CREATE OR REPLACE TABLE labels_all AS
    SELECT grp, clu, time, requestId, c_score, c_dec, c_norm, h_score, h_dec, h_norm, ${segmented ? 'seg, ' : ''}
      ${valued ? 'val' : '0.0 AS val'}, label
    FROM rec_label WHERE label IS NOT NULL`);
  let mature = '';
  if (matureMs !== undefined) {
    const last = (await conn.runAndReadAll('SELECT max(time) FROM rec')).getRows()[0]?.[0];
    mature = typeof last === 'number' ? `WHERE time < ${sqlNumber(last - matureMs)}` : 'WHERE false';
  }
  await conn.run(`CREATE OR REPLACE VIEW labelled AS SELECT * FROM labels_all ${mature}`);
}

/**
 * `perBucket` (a query over `rec` with one row per value of its column `key`, computed as `bucket`
 * computes it from `time`) with each bucket's labelled observations in `labelled`, counted from
 * `labels_all` rather than by joining the labels again. Ordered by `key`.
 */
export function withLabelledCount(perBucket: string, key: string, bucket: string): string {
  return `SELECT q.*, coalesce(l.labelled, 0) AS labelled FROM (${perBucket}) q
    LEFT JOIN (SELECT ${bucket} AS ${key}, count(*) AS labelled FROM labels_all WHERE time IS NOT NULL GROUP BY ALL) l
    USING (${key}) ORDER BY ${key}`;
}
