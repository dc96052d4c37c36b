/**
 * Which files a report reads (docs/report.md, "What it reads"): under each `--logs` directory,
 * searched recursively, every pairs*.jsonl, events.jsonl and outcomes.jsonl, and the Parquet files
 * `ccrouter compact` wrote, found through their manifests so that each record is counted once
 * (sources.ts). Names are matched here, in Node; every path handed on is absolute and names one file
 * exactly (see `literalPath` in jsonl.ts for how DuckDB is kept from reading it as a pattern).
 */
import fs from 'node:fs';
import path from 'node:path';
import { CCR_ERR_INPUT } from '../errors.js';
import { resolveSources, type ParquetInput, type TimeRange } from './sources.js';

export type { ParquetInput } from './sources.js';

export interface LogFiles {
  /** The first `--logs` directory (as given). */
  dir: string;
  /** Every `--logs` directory, as given. */
  dirs: string[];
  /** Pair JSONL files to read: rotated (`pairs.1.jsonl`) and per-worker (`pairs-w2.jsonl`) ones. */
  pairs: string[];
  /** Parquet files of pair records to read. */
  parquet: ParquetInput[];
  /** Every `events.jsonl`. */
  events: string[];
  /** Each directory's `outcomes.jsonl` (when present), then each `--outcomes` file in the order given. All paths absolute. */
  outcomes: string[];
  /** Malformed lines of sources read from Parquet, counted when they were converted. */
  compactedMalformed: number;
  /** What the report must say about its input: manifests that disagree with the files, Parquet files skipped. */
  notices: string[];
  /** Bytes to read, for progress. */
  bytes: { jsonl: number; parquet: number };
}

const PAIRS = /^pairs.*\.jsonl$/;
// Natural order (pairs.2 before pairs.10): only cosmetic, every pair file is read alike.
const collator = new Intl.Collator('en', { numeric: true });
/** How deep a `--logs` tree is searched (a collected fleet is `DIR/<pod>/...`, Parquet `DIR/parquet/pairs/date=…/`). */
export const MAX_DEPTH = 8;

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

export interface Found {
  jsonl: string[];
  parquet: string[];
  events: string[];
  outcomes: string[];
  manifestDirs: string[];
}

/**
 * Walks `dir`: files as named above, directories below it except hidden ones (`compact` writes its
 * work in progress under a hidden name) and symbolic links to directories (no cycles).
 */
function walk(dir: string, depth: number, found: Found): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => collator.compare(a.name, b.name));
  const subdirs: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!e.name.startsWith('.') && depth < MAX_DEPTH) subdirs.push(p);
      continue;
    }
    if (!(e.isFile() || (e.isSymbolicLink() && isFile(p)))) continue;
    if (PAIRS.test(e.name)) found.jsonl.push(p);
    else if (e.name === 'events.jsonl') found.events.push(p);
    else if (e.name === 'outcomes.jsonl') found.outcomes.push(p);
    else if (e.name === 'manifest.json') found.manifestDirs.push(dir);
    else if (e.name.endsWith('.parquet')) found.parquet.push(p);
  }
  // A directory's own files before those of its subdirectories: its outcomes.jsonl is read first.
  for (const d of subdirs) walk(d, depth + 1, found);
}

function realOrSelf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/** Lists the files under each directory; throws CCR_ERR_INPUT naming the directory or file at fault. */
export function findLogFiles(dirs: string | readonly string[], extraOutcomes: readonly string[] = [], range: TimeRange = {}): LogFiles {
  const list = typeof dirs === 'string' ? [dirs] : [...dirs];
  if (list.length === 0) throw new CCR_ERR_INPUT('--logs: no directory given');
  const found: Found = { jsonl: [], parquet: [], events: [], outcomes: [], manifestDirs: [] };
  const seen = new Set<string>();
  for (const dir of list) {
    try {
      if (!fs.statSync(dir).isDirectory()) throw new CCR_ERR_INPUT(`--logs ${dir}: not a directory`);
    } catch (err) {
      if ((err as { code?: string }).code === 'CCR_ERR_INPUT') throw err;
      throw new CCR_ERR_INPUT(`--logs ${dir}: no such directory`);
    }
    // The same directory given twice (or one inside another) is read once.
    const real = realOrSelf(dir);
    if (seen.has(real)) continue;
    seen.add(real);
    // Absolute: a relative path could start like a URL (`s3:`) or a home directory (`~`) to DuckDB.
    walk(path.resolve(dir), 0, found);
  }
  const unique = (files: string[]) => {
    const out: string[] = [];
    const real = new Set<string>();
    for (const f of files) {
      const r = realOrSelf(f);
      if (!real.has(r)) {
        real.add(r);
        out.push(f);
      }
    }
    return out;
  };
  const sources = resolveSources(
    { ...found, jsonl: unique(found.jsonl), parquet: unique(found.parquet), manifestDirs: unique(found.manifestDirs) },
    range,
  );
  if (sources.pairs.length === 0 && sources.parquet.length === 0 && sources.compactedSources === 0) {
    throw new CCR_ERR_INPUT(`--logs ${list.join(', ')}: no pairs*.jsonl files and no compacted Parquet (no pair records)`);
  }
  for (const file of extraOutcomes) {
    if (!isFile(file)) throw new CCR_ERR_INPUT(`--outcomes ${file}: no such file`);
  }
  const size = (f: string) => {
    try {
      return fs.statSync(f).size;
    } catch {
      return 0;
    }
  };
  return {
    dir: list[0]!,
    dirs: list,
    pairs: sources.pairs,
    parquet: sources.parquet,
    events: unique(found.events),
    outcomes: [...unique(found.outcomes), ...extraOutcomes.map((f) => path.resolve(f))],
    compactedMalformed: sources.compactedMalformed,
    notices: sources.notices,
    bytes: {
      jsonl: sources.pairs.reduce((s, f) => s + size(f), 0),
      parquet: sources.parquet.reduce((s, p) => s + size(p.file), 0),
    },
  };
}
