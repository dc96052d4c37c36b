/**
 * What a one-read approximate report would cost against the bare scan (docs/benchmarks.md,
 * "Report at scale"): the bare DuckDB scan of the pair files and the sketch scan (bare-scan.ts
 * `sketchScanSql`), interleaved, each in a process of its own; medians of wall-clock and CPU time
 * and peak RSS.
 *
 *   node --import tsx bench/report/sketch.ts --logs DIR [--runs 3]
 */
import { count, flags, runMain, UsageError } from '../lib/args.js';
import { median } from '../lib/stats.js';
import { once, type Run } from './once.js';

const USAGE = `Usage: node --import tsx bench/report/sketch.ts --logs DIR [--runs N]

The bare DuckDB scan of DIR's pair files against one pass that computes what an approximate report
would need (quantile sketches, counts, score histograms, the outcomes joined while reading),
interleaved, each run in its own process; prints each run and the medians.

  --logs DIR   a directory of pair files and outcomes (e.g. one that scale.ts generated)
  --runs N     runs of each (default 3)
  -h, --help
`;

async function main(): Promise<void> {
  const values = flags(USAGE, { logs: { type: 'string' }, runs: { type: 'string' } });
  if (!values.logs) throw new UsageError('--logs: required');
  const runs = count('--runs', values.runs, 3);
  const bare: Run[] = [];
  const sketch: Run[] = [];
  const s = (r: Run) => `${(r.wallMs / 1000).toFixed(1)} s (cpu ${(r.cpuMs / 1000).toFixed(1)} s) ${(r.maxRssBytes / 1e9).toFixed(2)} GB`;
  for (let i = 0; i < runs; i++) {
    bare.push(once('bare', values.logs, undefined));
    sketch.push(once('sketch', values.logs, undefined));
    process.stdout.write(`run ${i + 1}: bare ${s(bare[i]!)}, sketch ${s(sketch[i]!)}\n`);
  }
  const m = (rs: Run[], k: keyof Run) => median(rs.map((r) => r[k]));
  process.stdout.write(`\nmedians of ${runs}: bare ${(m(bare, 'wallMs') / 1000).toFixed(1)} s (cpu ${(m(bare, 'cpuMs') / 1000).toFixed(1)} s), ` +
    `sketch ${(m(sketch, 'wallMs') / 1000).toFixed(1)} s (cpu ${(m(sketch, 'cpuMs') / 1000).toFixed(1)} s); sketch ÷ bare ` +
    `${(m(sketch, 'wallMs') / m(bare, 'wallMs')).toFixed(2)}× (cpu ${(m(sketch, 'cpuMs') / m(bare, 'cpuMs')).toFixed(2)}×), ` +
    `peak RSS ${(m(bare, 'maxRssBytes') / 1e9).toFixed(2)} and ${(m(sketch, 'maxRssBytes') / 1e9).toFixed(2)} GB\n`);
}

runMain(main);
