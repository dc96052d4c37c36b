/**
 * Times `ccrouter report --format json` against a bare DuckDB scan of the same pair files
 * (bare-scan.ts: `SELECT count(*), avg(champion.latencyMs) FROM read_json_auto(...)`), alternating the two so
 * that machine noise hits both alike, and prints the medians and their ratio (target ≤ 1.5).
 *
 *   node --import tsx bench/report/generate.ts --records 1000000 --out .tmp/bench-logs
 *   node --import tsx bench/report/run.ts [--logs .tmp/bench-logs] [--runs 5] [--segment country]
 *
 * Both run in this process on a fresh DuckDB instance each time. CPU time (process.cpuUsage,
 * which counts DuckDB's worker threads) is printed too: on a shared machine it moves less than
 * wall-clock time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runReport } from '../../src/commands/report.js';
import { count, flags, runMain, UsageError } from '../lib/args.js';
import { median } from '../lib/stats.js';
import { bareScanSql, withFreshDb } from './bare-scan.js';

const USAGE = `Usage: node --import tsx bench/report/run.ts [options]

Times ccrouter report --format json against a bare DuckDB scan of the same pair files, alternating
the two, and prints the medians of wall-clock and CPU time and their ratio.

  --logs DIR      records written by bench/report/generate.ts (default .tmp/bench-logs)
  --runs N        runs of each (default 5), after one warm-up of each
  --segment F     also pass --segment F to the report
  -h, --help
`;

interface Sample {
  wallMs: number;
  cpuMs: number;
}

async function measure(fn: () => Promise<void>): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function bareScan(dir: string): Promise<void> {
  const sql = bareScanSql(dir);
  await withFreshDb(async (conn) => void (await conn.runAndReadAll(sql)));
}

async function report(dir: string, extra: string[]): Promise<void> {
  let bytes = 0;
  const sink = { write: (s: string) => ((bytes += s.length), true) };
  const err: string[] = [];
  const code = await runReport(['--logs', dir, '--format', 'json', ...extra], {
    stdout: sink,
    stderr: { write: (s: string) => (err.push(s), true), isTTY: false },
  });
  if (code !== 0 || bytes === 0) throw new Error(`report failed (exit ${code}): ${err.join('')}`);
}

async function main(): Promise<void> {
  const values = flags(USAGE, { logs: { type: 'string' }, runs: { type: 'string' }, segment: { type: 'string' } });
  const dir = values.logs ?? '.tmp/bench-logs';
  if (!fs.existsSync(dir)) throw new UsageError(`--logs ${dir}: no such directory (run bench/report/generate.ts first)`);
  const extra = values.segment ? ['--segment', values.segment] : [];
  const runs = count('--runs', values.runs, 5);
  const files = fs.readdirSync(dir).filter((f) => /^pairs.*\.jsonl$/.test(f));
  const size = files.reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
  process.stdout.write(`logs ${dir}: ${files.length} pair files, ${(size / 1e6).toFixed(0)} MB; ${runs} runs each, alternating\n`);

  // One warm-up of each: page cache, DuckDB's extension loading, module JIT.
  await bareScan(dir);
  await report(dir, extra);
  const bare: Sample[] = [];
  const rep: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    bare.push(await measure(() => bareScan(dir)));
    rep.push(await measure(() => report(dir, extra)));
    process.stdout.write(
      `run ${i + 1}: bare ${bare[i]!.wallMs.toFixed(0)} ms (cpu ${bare[i]!.cpuMs.toFixed(0)}), ` +
        `report ${rep[i]!.wallMs.toFixed(0)} ms (cpu ${rep[i]!.cpuMs.toFixed(0)})\n`,
    );
  }
  const bw = median(bare.map((s) => s.wallMs));
  const rw = median(rep.map((s) => s.wallMs));
  const bc = median(bare.map((s) => s.cpuMs));
  const rc = median(rep.map((s) => s.cpuMs));
  process.stdout.write(
    `median wall: bare ${bw.toFixed(0)} ms, report ${rw.toFixed(0)} ms, ratio ${(rw / bw).toFixed(2)} (target <= 1.5)\n` +
      `median cpu:  bare ${bc.toFixed(0)} ms, report ${rc.toFixed(0)} ms, ratio ${(rc / bc).toFixed(2)}\n`,
  );
}

runMain(main);
