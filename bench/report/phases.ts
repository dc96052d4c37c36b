/**
 * Where the time of `ccrouter report --format json` goes: each phase of the report run on its own,
 * one after the other (the report itself overlaps most of them), with its CPU and wall-clock time,
 * medians over --runs, next to the bare scan that bench/report/run.ts compares against.
 *
 *   node --import tsx bench/report/phases.ts [--logs .tmp/bench-logs] [--runs 3]
 *
 * Over a directory of compacted Parquet (no pair JSON Lines), only the report's phases are timed.
 *
 * The report's phases are its own (src/report/phases.ts): the report runs as it always does, through
 * a phase runner that starts each phase once the one before has finished. Three references are
 * timed beside them. `parse only` is the typed read of every field the report uses, evaluated but not
 * stored: the floor of any design that reads the records through DuckDB's JSON reader. `one pass`
 * adds what every design must also do (outcomes, label join, the cell counts) in a single query:
 * the report's own views laid over the reading query instead of the stored table, which is the
 * floor of the one-pass design that docs/report.md describes, before its statistics.
 */
import fs from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { buildReport } from '../../src/report/build.js';
import { readJsonColumns } from '../../src/report/columns.js';
import { findLogFiles } from '../../src/report/files.js';
import { jsonText } from '../../src/report/format.js';
import type { PhaseRunner } from '../../src/report/phases.js';
import { pairTable } from '../../src/report/schema.js';
import { defineViews, loadEvents, loadOutcomes } from '../../src/report/tables.js';
import { count, flags, runMain, UsageError } from '../lib/args.js';
import { median } from '../lib/stats.js';
import { bareScanSql, pairFileList, withFreshDb } from './bare-scan.js';

const USAGE = `Usage: node --import tsx bench/report/phases.ts [options]

Runs each phase of ccrouter report on its own, one after the other, and prints its CPU and
wall-clock time (medians over --runs) next to the bare scan that bench/report/run.ts compares against.

  --logs DIR   records written by bench/report/generate.ts (default .tmp/bench-logs)
  --runs N     runs (default 3), after one warm-up
  -h, --help
`;

const samples = new Map<string, { cpu: number[]; wall: number[] }>();

async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const out = await fn();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const s = samples.get(name) ?? { cpu: [], wall: [] };
  s.cpu.push((cpu.user + cpu.system) / 1000);
  s.wall.push(wall);
  samples.set(name, s);
  return out;
}

/** Runs the report's phases one at a time, in the order they are started, and times each. */
function oneAtATime(): PhaseRunner {
  let previous: Promise<unknown> = Promise.resolve();
  return (phase, run) => {
    const p = previous.then(() => timed(phase, run));
    previous = p.catch(() => undefined);
    return p;
  };
}

/** `pairs` as a view over the reading query: every later view then reads the files as it runs. */
async function pairsAsRead(conn: DuckDBConnection, dir: string): Promise<void> {
  const { columns, select } = pairTable(undefined);
  await conn.run(`CREATE VIEW pairs AS SELECT 0 AS batch, ${select} FROM read_json(${pairFileList(dir)},
    format = 'newline_delimited', ignore_errors = true, columns = ${readJsonColumns(columns)})`);
}

async function once(dir: string): Promise<void> {
  // Compacted records alone (bench/report/scale.ts's Parquet directory): the report's phases only,
  // the references read JSON Lines.
  if (findLogFiles(dir).pairs.length === 0) {
    const report = await buildReport({ logs: dir, phase: oneAtATime() });
    await timed('render json', async () => jsonText(report, 2));
    return;
  }
  const bare = bareScanSql(dir);
  await withFreshDb((c) => timed('bare scan', () => c.run(bare)));
  await withFreshDb(async (c) => {
    await pairsAsRead(c, dir);
    // Every stored column counted instead of stored.
    await timed('parse only', () => c.run(`SELECT count(*), count(COLUMNS(* EXCLUDE (batch))) FROM pairs`));
  });
  // The least a one-pass report does before any percentile, rank or AUC: the outcomes read, the labels
  // joined while the records are read, and every cell counted, in one query and nothing stored.
  // DuckDB would build the join's hash table on the records (it underestimates read_json), so the
  // label tables are made the build side.
  const files = findLogFiles(dir);
  await withFreshDb((c) => timed('one pass: labels + cells, no stats', async () => {
    await loadEvents(c, files);
    await loadOutcomes(c, files);
    await pairsAsRead(c, dir);
    await defineViews(c, {});
    await c.run(`SET disabled_optimizers = 'build_side_probe_side'`);
    await c.run(`SELECT grp, config, fallback, c_version, h_version, c_called, h_called, c_err, h_err, c_kind, h_kind,
        c_dec, h_dec, c_score IS NOT NULL, h_score IS NOT NULL, label,
        count(*), min(time), max(time), sum(c_lat), count(c_lat), sum(h_lat), count(h_lat), sum(c_score), sum(h_score),
        sum(c_norm), count(c_norm), sum(h_norm), count(h_norm), sum(abs(h_score - c_score))
      FROM rec_label GROUP BY ALL`);
  }));

  const report = await buildReport({ logs: dir, phase: oneAtATime() });
  await timed('render json', async () => jsonText(report, 2));
}

/** Phases timed for comparison, not part of the report's sum. */
const REFERENCES = new Set(['bare scan', 'parse only', 'one pass: labels + cells, no stats']);

async function main(): Promise<void> {
  const values = flags(USAGE, { logs: { type: 'string' }, runs: { type: 'string' } });
  const dir = values.logs ?? '.tmp/bench-logs';
  if (!fs.existsSync(dir)) throw new UsageError(`--logs ${dir}: no such directory (run bench/report/generate.ts first)`);
  const runs = count('--runs', values.runs, 3);
  await once(dir); // warm-up: page cache, module JIT
  samples.clear();
  for (let i = 0; i < runs; i++) await once(dir);
  let cpuSum = 0;
  let wallSum = 0;
  process.stdout.write(`${'phase'.padEnd(34)} ${'cpu ms'.padStart(7)} ${'wall ms'.padStart(8)}  (medians of ${runs})\n`);
  for (const [name, s] of samples) {
    const cpu = median(s.cpu);
    const wall = median(s.wall);
    if (!REFERENCES.has(name)) {
      cpuSum += cpu;
      wallSum += wall;
    }
    process.stdout.write(`${name.padEnd(34)} ${cpu.toFixed(0).padStart(7)} ${wall.toFixed(0).padStart(8)}\n`);
  }
  process.stdout.write(`${'report phases, summed'.padEnd(34)} ${cpuSum.toFixed(0).padStart(7)} ${wallSum.toFixed(0).padStart(8)}\n`);
}

runMain(main);
