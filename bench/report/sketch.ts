/**
 * What a one-read approximate report would cost against the bare scan (docs/benchmarks.md,
 * "Report at scale"): the bare DuckDB scan of the pair files and the sketch scan (bare-scan.ts
 * `sketchScanSql`), interleaved, each in a process of its own; medians of wall-clock and CPU time
 * and peak RSS.
 *
 *   node --import tsx bench/report/sketch.ts --logs DIR [--runs 3] [--parts]
 */
import { count, flags, runMain, UsageError } from '../lib/args.js';
import { medianRun, once, showRatio, showRun, showTimes, type Run } from './once.js';
import type { Mode } from './one.js';

const USAGE = `Usage: node --import tsx bench/report/sketch.ts --logs DIR [--runs N] [--parts]

The bare DuckDB scan of DIR's pair files against one pass that computes what an approximate report
would need (quantile sketches, counts, score histograms, the outcomes joined while reading),
interleaved, each run in its own process; prints each run and the medians.

  --logs DIR   a directory of pair files and outcomes (e.g. one that scale.ts generated)
  --runs N     runs of each (default 3)
  --parts      also the pass without the outcomes and without the per-hour grouping, to show
               what each part costs
  -h, --help
`;

async function main(): Promise<void> {
  const values = flags(USAGE, { logs: { type: 'string' }, runs: { type: 'string' }, parts: { type: 'boolean' } });
  if (!values.logs) throw new UsageError('--logs: required');
  const runs = count('--runs', values.runs, 3);
  const modes: Mode[] = ['bare', 'sketch', ...(values.parts ? ['sketch-no-labels', 'sketch-no-hours'] as const : [])];
  const results = new Map<Mode, Run[]>(modes.map((m) => [m, []]));
  for (let i = 0; i < runs; i++) {
    const line = modes.map((m) => {
      const r = once(m, values.logs!, undefined);
      results.get(m)!.push(r);
      return `${m} ${showRun(r)}`;
    });
    process.stdout.write(`run ${i + 1}: ${line.join(', ')}\n`);
  }
  const bare = medianRun(results.get('bare')!);
  process.stdout.write(`\nmedians of ${runs}:\n`);
  for (const mode of modes) {
    const r = medianRun(results.get(mode)!);
    process.stdout.write(`  ${mode}: ${showTimes(r)}, peak RSS ${(r.maxRssBytes / 1e9).toFixed(2)} GB; ÷ bare ${showRatio(r, bare)}\n`);
  }
}

runMain(main);
