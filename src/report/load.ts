/**
 * Opens a log directory for a report (docs/report.md, "What it reads"): reads every file into
 * DuckDB and defines the views every section queries (tables.ts lists them). `calibrate` reads the
 * same store through {@link labelledScores}.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { DEFAULT_MEMORY, lineLimitFor, openBoundedDatabase, storesOnDisk } from './database.js';
import { MAX_LINE_BYTES } from './clean-lines.js';
import { CCR_ERR_INPUT, CCR_ERR_USAGE } from '../errors.js';
import { findLogFiles, type LogFiles } from './files.js';
import { scalar } from './jsonl.js';
import { runNow, type PhaseRunner } from './phases.js';
import { MAX_TIME } from './schema.js';
import { count, QueryPool, queriesOn, type QueryObserver } from './sql.js';
import { defineViews, joinLabels, loadEvents, loadOutcomes, loadPairs } from './tables.js';

export interface LoadOptions {
  /** The log directories (`--logs`, repeatable: every figure is over their union). */
  logs: string | readonly string[];
  /** Extra outcome files, read after `DIR/outcomes.jsonl`, later lines winning. */
  outcomes?: readonly string[];
  /** Epoch ms; a record counts when since ≤ time < until. */
  since?: number;
  until?: number;
  /** Group by `fields.<segment>`. */
  segment?: string;
  /** Weigh records by `fields.<value>` (docs/report.md, "value"). */
  value?: string;
  /** Label figures use records older than the last one by this many ms (docs/report.md, "maturity"). */
  mature?: number;
  /** Told what the report must say about its input (a manifest that disagrees with the files, a Parquet file skipped). */
  onNotice?: (message: string) => void;
  /** Phases and file counts, for a progress line. */
  onProgress?: (message: string) => void;
  /** Lines longer than this many bytes count as malformed (default 256 MiB; tests lower it). */
  maxLineBytes?: number;
  /** Runs each phase (default: at once); see phases.ts. */
  phase?: PhaseRunner;
  /** Bytes the report may use (`--memory`, default 2 GiB); DuckDB spills to a temporary directory beyond its share. */
  memory?: number;
  /** A Parquet file that cannot be read as pair records fails the report instead of being skipped (`--strict`). */
  strict?: boolean;
  /** Where the records are stored: by default in memory when they fit in half of DuckDB's share of `memory`, else on disk (database.ts `storesOnDisk`). */
  storage?: 'memory' | 'disk';
  /** Told of every connection and of every query the figures run (a profiler; see sql.ts). */
  observer?: QueryObserver;
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
  /** What the report must say about its input (manifests that disagree with the files, Parquet skipped). */
  notices: string[];
  /** Waits for running queries, then releases the database. */
  close(): Promise<void>;
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

/** The `--logs` directories, as a message names them. */
export function logsText(logs: string | readonly string[]): string {
  return typeof logs === 'string' ? logs : logs.join(', ');
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;

/** CCR_ERR_INPUT when the window holds nothing to compare, or no record has the segment field. */
async function checkContent(conn: DuckDBConnection, opts: LoadOptions): Promise<void> {
  const totals = await queriesOn(conn).one(`SELECT count(*) AS n, count(*) FILTER (WHERE rejected) AS rejected FROM pair_rows`);
  const n = count(totals.n);
  if (n === count(totals.rejected)) {
    const where = opts.since !== undefined || opts.until !== undefined ? ' in the --since/--until window' : '';
    throw new CCR_ERR_INPUT(
      n === 0
        ? `--logs ${logsText(opts.logs)}: no pair records${where}`
        : `--logs ${logsText(opts.logs)}: all ${n} pair records${where} are rejected requests (top-level error); nothing to compare`,
    );
  }
  if (opts.segment !== undefined && (await scalar(conn, `SELECT count(*) FROM rec WHERE has_seg`)) === 0) {
    throw new CCR_ERR_INPUT(`--segment ${opts.segment}: no record has fields.${opts.segment}`);
  }
  if (opts.value !== undefined && (await scalar(conn, `SELECT count(*) FROM rec WHERE has_val`)) === 0) {
    throw new CCR_ERR_INPUT(`--value ${opts.value}: no record has fields.${opts.value}`);
  }
}

/** Opens the logs: reads every file, defines the views. Throws CCR_ERR_INPUT on unusable input. */
export async function openLogs(opts: LoadOptions): Promise<LogStore> {
  checkOptions(opts);
  const files = findLogFiles(opts.logs, opts.outcomes ?? [], opts);
  const progress = opts.onProgress ?? (() => {});
  const phase = opts.phase ?? runNow;
  const memory = opts.memory ?? DEFAULT_MEMORY;
  const onDisk = opts.storage === undefined ? storesOnDisk(memory, files.bytes) : opts.storage === 'disk';
  const db = await openBoundedDatabase(memory, undefined, onDisk);
  const maxLineBytes = lineLimitFor(memory, opts.maxLineBytes ?? MAX_LINE_BYTES);
  const instance = db.instance;
  const conn = await instance.connect();
  await opts.observer?.connected(conn);
  let pool: QueryPool | null = null;
  let labelled: Promise<void> = Promise.resolve();
  const close = async () => {
    await labelled.catch(() => undefined);
    await pool?.close();
    conn.closeSync();
    db.close();
  };
  try {
    const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
    progress(`reading logs… ${plural(files.pairs.length, 'pair file')} (${mb(files.bytes.jsonl)} JSONL)` +
      (files.parquet.length > 0 ? `, ${plural(files.parquet.length, 'Parquet file')} (${mb(files.bytes.parquet)})` : '') +
      `, ${plural(files.outcomes.length, 'outcome file')}`);
    // The pairs, then the outcomes: side by side, their readers' buffers (each a few times the
    // longest line allowed) and the label tables' hash tables, which cannot be spilled while they
    // are worked on, exhaust a limit each load alone stays within (docs/report.md, "Memory").
    // Logs too large for memory are worked one query at a time for the same reason.
    const pairsLoad = await phase('load pairs', () => loadPairs(conn, files, opts.segment, maxLineBytes, opts.value, opts.strict ?? false));
    const otherMalformed = await phase('load events and outcomes', async () =>
      (await loadEvents(conn, files, maxLineBytes)) + (await loadOutcomes(conn, files, maxLineBytes)));
    const pairsMalformed = pairsLoad.malformed;
    progress(`read ${plural(await scalar(conn, 'SELECT count(*) FROM pairs'), 'pair row')}`);
    for (const n of [...files.notices, ...pairsLoad.notices]) opts.onNotice?.(n);
    await defineViews(conn, opts);
    await checkContent(conn, opts);
    const oc = await queriesOn(conn).one(`SELECT count(*) FILTER (WHERE y IS NOT NULL AND (rid IS NOT NULL OR unit IS NOT NULL)) AS ok,
      count(*) AS n FROM outcomes WHERE is_outcome`);
    // The label join runs while the first section queries scan the records (on disk, before them).
    labelled = phase('label join', async () => {
      await joinLabels(conn, opts.segment !== undefined, opts.value !== undefined, opts.mature);
      await opts.observer?.finished(conn, 'label join (tables.ts joinLabels)');
    });
    labelled.catch(() => undefined); // awaited by the label queries; not unhandled meanwhile
    if (onDisk) await labelled;
    // More connections than one: a query in a single-threaded phase (a window's last merge, a
    // hash table's finalize) leaves the other cores to another query.
    pool = await QueryPool.create(instance, onDisk ? 1 : 3, opts.observer);
    return {
      conn,
      db: pool,
      labelled,
      files,
      malformedLines: pairsMalformed + otherMalformed,
      notices: [...files.notices, ...pairsLoad.notices],
      outcomes: { accepted: count(oc.ok), rejected: count(oc.n) - count(oc.ok) },
      close,
    };
  } catch (err) {
    await close();
    throw outOfMemory(err, opts.memory ?? DEFAULT_MEMORY);
  }
}

/** DuckDB's out-of-memory error, told in terms of the flag that sets the limit. */
export function outOfMemory(err: unknown, memory: number): unknown {
  const message = (err as Error | undefined)?.message ?? '';
  if (!/Out of Memory Error/i.test(message)) return err;
  return new Error(`--memory ${Math.round(memory / 1024 ** 2)}m is too little for these logs (${message.split('\n')[0]}); ` +
    'give it more, or split the window with --since/--until', { cause: err });
}

export interface LabelledScore {
  version: string;
  role: 'champion' | 'challenger';
  score: number;
  label: 0 | 1;
}

/**
 * Every labelled (version, role, score, label) row in the logs, labels joined as the report joins
 * them: the input of `calibrate` (docs/calibration.md). Rows stream in chunks; the store is closed
 * at the end.
 */
export async function* labelledScores(opts: LoadOptions): AsyncGenerator<LabelledScore> {
  const store = await openLogs(opts);
  try {
    await store.labelled; // it runs on `conn`, which is about to stream
    // Read from the label view itself: versions are not in `labelled`, which holds only what the
    // report's figures read.
    const result = await store.conn.stream(`
      WITH l AS (SELECT c_version, c_score, h_version, h_score, label FROM rec_label WHERE label IS NOT NULL)
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
