/**
 * Where the time of `ccrouter report --format json` goes: each phase of the report run on its own,
 * one after the other (the report itself overlaps most of them), with its CPU and wall-clock time,
 * medians over --runs, next to the bare scan that bench/report/run.ts compares against.
 *
 *   node --import tsx bench/report/phases.ts [--logs .tmp/bench-logs] [--runs 3]
 *
 * `parse only` is the typed read of every field the report uses, evaluated but not stored: the
 * floor of any design that reads the records through DuckDB's JSON reader. `one pass` adds what
 * every design must also do (outcomes, label join, the cell counts) in a single query: the floor of
 * the one-pass design that docs/report.md describes, before its statistics.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { finiteOnly } from '../../src/report/build.js';
import { findLogFiles } from '../../src/report/files.js';
import { readJsonColumns } from '../../src/report/jsonl.js';
import { defineViews, joinLabels, loadEventsAndOutcomes, loadPairs } from '../../src/report/load.js';
import { pairColumns, pairSelect } from '../../src/report/schema.js';
import { agreementSection, spearmanQuery } from '../../src/report/sections/agreement.js';
import { impactSection, labelData, labelsSection } from '../../src/report/sections/labels.js';
import { modelQuantiles, modelsSection } from '../../src/report/sections/models.js';
import { bothScoredScan, cellScan } from '../../src/report/sections/scan.js';
import { windowAndTraffic } from '../../src/report/sections/traffic.js';
import { queriesOn, sqlString } from '../../src/report/sql.js';
import type { Report } from '../../src/report/types.js';
import { verdictOf } from '../../src/report/verdict.js';
import { count, flags, runMain, UsageError } from '../lib/args.js';

const USAGE = `Usage: node --import tsx bench/report/phases.ts [options]

Runs each phase of ccrouter report on its own, one after the other, and prints its CPU and
wall-clock time (medians over --runs) next to the bare scan that bench/report/run.ts compares against.

  --logs DIR   records written by bench/report/generate.ts (default .tmp/bench-logs)
  --runs N     runs (default 3), after one warm-up
  -h, --help
`;

const samples = new Map<string, { cpu: number[]; wall: number[] }>();

async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
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

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function fresh<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    return await fn(conn);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

async function once(dir: string): Promise<void> {
  const glob = sqlString(path.join(dir, 'pairs*.jsonl'));
  await fresh((c) => phase('bare scan', () => c.run(`SELECT count(*), avg(champion.latencyMs) FROM read_json_auto(${glob})`)));
  const files = findLogFiles(dir);
  // The typed read as loadPairs does it, every stored column counted instead of stored.
  const stored = ['time', 'is_pair', 'rejected', 'requestId', 'unit', 'config', 'grp', 'fallback',
    ...['c', 'h'].flatMap((p) => ['version', 'called', 'err', 'kind', 'lat', 'score', 'dec', 'norm'].map((x) => `${p}_${x}`))];
  const typedRead = `(SELECT ${pairSelect(undefined)} FROM read_json([${files.pairs.map(sqlString).join(', ')}],
      format = 'newline_delimited', ignore_errors = true, columns = ${readJsonColumns(pairColumns(false))}))`;
  await fresh((c) => phase('parse only', () => c.run(`SELECT count(*), ${stored.map((x) => `count(${x})`).join(', ')} FROM ${typedRead}`)));
  // The least a one-pass report does before any percentile, rank or AUC: the outcomes read, the labels
  // joined while the records are read, and every cell counted, in one query and nothing stored.
  // DuckDB would build the join's hash table on the records (it underestimates read_json), so the
  // label tables are made the build side.
  await fresh((c) => phase('one pass: labels + cells, no stats', async () => {
    await loadEventsAndOutcomes(c, files);
    await c.run(`SET disabled_optimizers = 'build_side_probe_side'`);
    await c.run(`SELECT grp, config, fallback, c_version, h_version, c_called, h_called, c_err, h_err, c_kind, h_kind,
        c_dec, h_dec, c_score IS NOT NULL, h_score IS NOT NULL, coalesce(lr.y, lu.y) AS label,
        count(*), min(time), max(time), sum(c_lat), count(c_lat), sum(h_lat), count(h_lat), sum(c_score), sum(h_score),
        sum(c_norm), count(c_norm), sum(h_norm), count(h_norm), sum(abs(h_score - c_score))
      FROM ${typedRead} r LEFT JOIN label_req lr ON r.requestId = lr.rid LEFT JOIN label_unit lu ON r.unit = lu.unit
      WHERE is_pair AND NOT rejected GROUP BY ALL`);
  }));

  await fresh(async (conn) => {
    const db = queriesOn(conn);
    const malformed = await phase('load events + outcomes', () => loadEventsAndOutcomes(conn, files));
    await phase('load pairs (stored)', () => loadPairs(conn, files, undefined));
    await defineViews(conn, { logs: dir });
    await phase('label join', () => joinLabels(conn, false));
    const cells = await phase('cells', () => cellScan(db));
    const both = await phase('both-scored scan (corr, deciles)', () => bothScoredScan(db));
    const q = await phase('percentiles (latency, score)', () => modelQuantiles(db, Promise.resolve(cells)));
    const rho = await phase('spearman', () => spearmanQuery(db));
    const { agreement, psi } = await phase('psi bins', () => agreementSection(db, cells, both, rho));
    const data = await phase('label figures', () => labelData(db, false));
    const { window, traffic } = await phase('window, traffic, srm', () => windowAndTraffic(db, cells, malformed));
    await phase('render json', async () => {
      const labels = labelsSection(data, { accepted: 0, rejected: 0 });
      const report: Report = {
        window, traffic, models: modelsSection(cells, q), agreement, drift: { psi }, labels,
        impact: impactSection(cells, data), verdict: verdictOf(labels.paired),
      };
      return JSON.stringify(finiteOnly(report), null, 2);
    });
  });
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
