/**
 * The tables and views a report queries, and how each is filled (docs/report.md, "What it reads"):
 *
 *   pairs       every line of the pair files (JSONL, and Parquet from `compact`), flattened at load (schema.ts)
 *   pair_rows   pair records in the time window (rejected ones included)
 *   rec         pair records in the window without a top-level `error`
 *   outcomes    outcome lines with their parsed label `y` (null = rejected), in file/line order
 *   events      event lines
 *   label_req, label_unit   the latest valid label per requestId, per unit
 *   rec_label   every `rec` record with its `label` (null when it has none): the one definition of
 *               how a record finds its label
 *   labelled    the labelled records of `rec_label`, narrowed to what the label figures read
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
  strict = false): Promise<{ malformed: number; notices: string[] }> {
  const spec = pairTable(segment);
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
  await conn.run(`CREATE OR REPLACE TABLE label_req AS
    SELECT rid, arg_max(y, {'b': batch, 's': rowid}) AS y FROM outcomes
    WHERE ${valid} AND rid IS NOT NULL GROUP BY rid`);
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
  await conn.run(`CREATE OR REPLACE VIEW rec AS SELECT * FROM pairs WHERE ${inWindow} AND NOT rejected`);
  // A record's label: its request's, else its unit's (docs/report.md, "labels").
  await conn.run(`CREATE OR REPLACE VIEW rec_label AS SELECT r.*, coalesce(lr.y, lu.y) AS label FROM rec r
    LEFT JOIN label_req lr ON r.requestId = lr.rid
    LEFT JOIN label_unit lu ON r.unit = lu.unit`);
}

/** `labelled`: narrow on purpose, only what label figures use (materializing wide rows is what costs). */
export async function joinLabels(conn: DuckDBConnection, segmented: boolean): Promise<void> {
  await conn.run(`CREATE OR REPLACE TABLE labelled AS
    SELECT grp, c_score, c_dec, c_norm, h_score, h_dec, h_norm, ${segmented ? 'seg, ' : ''}label
    FROM rec_label WHERE label IS NOT NULL`);
}
