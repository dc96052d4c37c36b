/**
 * The report at scale (docs/benchmarks.md, "Report at scale"): for each size, logs generated once
 * into a cache directory outside the repository (generate.ts), compacted once to Parquet, then, run
 * after run and interleaved: the bare DuckDB scan of the pair files, the report over the JSONL, the
 * report over the Parquet. Each run is a process of its own (one.ts), so its peak RSS is its own.
 *
 *   node --import tsx bench/report/scale.ts [--sizes 1m,4m,20m,100m] [--runs 3] [--cache DIR] [--memory 2g]
 *
 * Before generating a size it states the disk it needs and skips it, with a message, when the cache
 * directory's file system has not that much free.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compact } from '../../src/compact/convert.js';
import { count, flags, runMain, UsageError } from '../lib/args.js';
import { generate } from './generate.js';
import { medianRun, once, showRatio, showRun, showTimes, type Run } from './once.js';

const USAGE = `Usage: node --import tsx bench/report/scale.ts [options]

For each size: the bare DuckDB scan, the report over JSONL and the report over Parquet, each in its
own process, interleaved; medians of wall-clock time and peak RSS, and the Parquet/JSONL size ratio.

  --sizes LIST   record counts, k/m suffixes allowed (default 1m,4m,20m,100m)
  --runs N       runs of each (default 3)
  --cache DIR    where generated logs are kept between runs (default $XDG_CACHE_HOME/ccrouter-bench,
                 else ~/.cache/ccrouter-bench); must be outside the repository
  --memory SIZE  the report's --memory (default: the report's default, 2g)
  -h, --help
`;

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
/** Measured on generate.ts's records (docs/benchmarks.md): JSONL and outcomes per pair record, and what a run may spill. */
const JSONL_BYTES = 530;
const PARQUET_BYTES = 40;
const SPILL_BYTES = 150;

function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(v.trim());
  if (!m) throw new UsageError(`--sizes: "${v}" is not a record count (e.g. 500k, 20m)`);
  return Math.round(Number(m[1]) * (m[2]!.toLowerCase() === 'm' ? 1e6 : m[2]!.toLowerCase() === 'k' ? 1e3 : 1));
}

const label = (n: number) => (n >= 1e6 ? `${n / 1e6} M` : `${n / 1e3} k`);
const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;

function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

function dirBytes(dir: string, match: (f: string) => boolean): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(e.parentPath, e.name);
    if (e.isFile() && match(e.name)) total += fs.statSync(p).size;
  }
  return total;
}

/** The size's JSONL and Parquet directories, generated and compacted once. */
async function prepare(cache: string, n: number): Promise<{ jsonl: string; parquet: string } | null> {
  const root = path.join(cache, `records-${n}`);
  const jsonl = path.join(root, 'jsonl');
  const parquet = path.join(root, 'parquet');
  const done = path.join(root, '.complete');
  if (fs.existsSync(done)) return { jsonl, parquet };
  const need = n * (JSONL_BYTES + PARQUET_BYTES + SPILL_BYTES);
  fs.mkdirSync(cache, { recursive: true });
  const free = freeBytes(cache);
  if (need > free) {
    process.stdout.write(`${label(n)} records: skipped, needs about ${gb(need)} of disk in ${cache}, ${gb(free)} free\n`);
    return null;
  }
  process.stdout.write(`${label(n)} records: generating into ${root} (needs about ${gb(need)}, ${gb(free)} free)…\n`);
  fs.rmSync(root, { recursive: true, force: true });
  await generate({ records: n, dir: jsonl });
  // The report over Parquet reads the events and outcomes beside it, as a directory of its own:
  // hard links where the file system has them (100 M records have 2.6 GB of outcomes).
  await compact({ logs: jsonl, out: parquet, all: true });
  for (const f of ['events.jsonl', 'outcomes.jsonl']) {
    try {
      fs.linkSync(path.join(jsonl, f), path.join(parquet, f));
    } catch {
      fs.copyFileSync(path.join(jsonl, f), path.join(parquet, f));
    }
  }
  fs.writeFileSync(done, '');
  return { jsonl, parquet };
}

async function main(): Promise<void> {
  const values = flags(USAGE, { sizes: { type: 'string' }, runs: { type: 'string' }, cache: { type: 'string' }, memory: { type: 'string' } });
  const sizes = (values.sizes ?? '1m,4m,20m,100m').split(',').map(parseSize);
  const runs = count('--runs', values.runs, 3);
  const cache = path.resolve(values.cache ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'ccrouter-bench'));
  if (cache === REPO || cache.startsWith(REPO + path.sep)) throw new UsageError(`--cache ${cache}: must be outside the repository`);
  const rows: string[] = [];
  for (const n of sizes) {
    const dirs = await prepare(cache, n);
    if (!dirs) {
      rows.push(`| ${label(n)} | not run: not enough disk | | | | | | | | | |`);
      continue;
    }
    const jsonlBytes = dirBytes(dirs.jsonl, (f) => /^pairs.*\.jsonl$/.test(f));
    const parquetBytes = dirBytes(dirs.parquet, (f) => f.endsWith('.parquet'));
    const bare: Run[] = [];
    const overJsonl: Run[] = [];
    const overParquet: Run[] = [];
    for (let i = 0; i < runs; i++) {
      bare.push(once('bare', dirs.jsonl, undefined));
      overJsonl.push(once('report', dirs.jsonl, values.memory));
      overParquet.push(once('report', dirs.parquet, values.memory));
      process.stdout.write(`${label(n)} run ${i + 1}: bare ${showRun(bare[i]!)}, report JSONL ${showRun(overJsonl[i]!)}, report Parquet ${showRun(overParquet[i]!)}\n`);
    }
    const [b, j, p] = [bare, overJsonl, overParquet].map(medianRun) as [Run, Run, Run];
    rows.push(`| ${label(n)} | ${gb(jsonlBytes)} | ${(parquetBytes / jsonlBytes).toFixed(3)} | ${showTimes(b)} | ${gb(b.maxRssBytes)} | ` +
      `${showTimes(j)} | ${showRatio(j, b)} | ${gb(j.maxRssBytes)} | ${showTimes(p)} | ${showRatio(p, j)} | ${gb(p.maxRssBytes)} |`);
  }
  process.stdout.write(`\nmedians of ${runs} interleaved run${runs === 1 ? '' : 's'}\n\n` +
    '| pair records | JSONL | Parquet/JSONL size | bare scan | peak RSS | report over JSONL | ÷ bare | peak RSS | report over Parquet | ÷ over JSONL | peak RSS |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|\n' + rows.join('\n') + '\n');
}

runMain(main);
