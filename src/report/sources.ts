/**
 * Counting each record once when pair records exist both as JSONL and as Parquet (docs/records.md,
 * "Records at scale"): a JSONL file listed in a manifest is skipped while it is the file that was
 * converted and its Parquet files are all there as written; otherwise the JSONL is read, the source's
 * Parquet left out, and a notice says so. Parquet files under a manifest's directory are read only
 * when it lists them (a file being written is not yet listed); Parquet elsewhere is read as it is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { headDigest, readManifest, type SourceEntry } from '../compact/manifest.js';

export interface ParquetInput {
  file: string;
  /** Rows the manifest lists for it; null for a Parquet file no manifest lists. */
  rows: number | null;
}

/** Epoch ms; a record counts when since ≤ time < until. */
export interface TimeRange {
  since?: number | undefined;
  until?: number | undefined;
}

export interface Resolved {
  pairs: string[];
  parquet: ParquetInput[];
  compactedMalformed: number;
  /** Sources read from Parquet (so that a directory of Parquet alone is not "no pair records"). */
  compactedSources: number;
  notices: string[];
}

const DAY_MS = 86_400_000;

/** Whether a partition's UTC day can hold records of the window (`unknown`: records without a usable time). */
export function dayInRange(date: string, range: TimeRange): boolean {
  if (range.since === undefined && range.until === undefined) return true;
  const start = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T00:00:00Z`) : NaN;
  if (!Number.isFinite(start)) return false;
  return (range.until === undefined || start < range.until) && (range.since === undefined || start + DAY_MS > range.since);
}

function sizeOf(file: string): number | null {
  try {
    const st = fs.statSync(file);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

function realOrSelf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

type SourceState = 'absent' | 'same' | 'grown' | 'other';

function stateOf(file: string, e: SourceEntry): SourceState {
  const size = sizeOf(file);
  if (size === null) return 'absent';
  const head = headDigest(file);
  if (head !== e.head) return 'other';
  return size === e.size ? 'same' : 'grown';
}

export function resolveSources(
  found: { jsonl: readonly string[]; parquet: readonly string[]; manifestDirs: readonly string[] },
  range: TimeRange,
): Resolved {
  const notices: string[] = [];
  const skip = new Set<string>();
  const parquet: ParquetInput[] = [];
  const roots: string[] = [];
  let compactedMalformed = 0;
  let compactedSources = 0;
  for (const dir of found.manifestDirs) {
    const read = readManifest(dir);
    if (read === null) continue;
    roots.push(path.resolve(dir) + path.sep);
    notices.push(...read.problems);
    for (const [name, e] of Object.entries(read.manifest.sources)) {
      const source = path.resolve(dir, e.path);
      const parts = e.parts.map((p) => ({ ...p, file: path.resolve(dir, p.path) }));
      const broken = parts.filter((p) => sizeOf(p.file) !== p.bytes);
      const state = stateOf(source, e);
      const useParquet = () => {
        compactedSources++;
        compactedMalformed += e.malformed;
        for (const p of parts) if (!broken.includes(p) && dayInRange(p.date, range)) parquet.push({ file: p.file, rows: p.rows });
      };
      const where = `${path.join(dir, 'manifest.json')} (${name})`;
      if (broken.length === 0) {
        if (state === 'same' || state === 'absent') {
          useParquet();
          if (state === 'same') skip.add(realOrSelf(source));
        } else if (state === 'grown') {
          notices.push(`${source} changed since it was compacted (${where}): read as JSONL, its Parquet left out`);
        } else {
          // A new file under the name of one converted and removed: both hold records.
          useParquet();
        }
        continue;
      }
      const missing = broken.map((p) => p.file).join(', ');
      if (state === 'same' || state === 'grown') {
        notices.push(`${where} lists Parquet that is missing or not as written (${missing}): ${source} read as JSONL instead`);
      } else {
        notices.push(`${where} lists Parquet that is missing or not as written (${missing}) and its source ${source} is gone: ` +
          `the records of those files are not in this report`);
        useParquet();
      }
    }
  }
  const managed = (f: string) => roots.some((r) => path.resolve(f).startsWith(r));
  for (const f of found.parquet) if (!managed(f)) parquet.push({ file: path.resolve(f), rows: null });
  const listed = new Set<string>();
  const unique = parquet.filter((p) => (listed.has(p.file) ? false : (listed.add(p.file), true)));
  return {
    pairs: found.jsonl.filter((f) => !skip.has(realOrSelf(f))).map((f) => path.resolve(f)),
    parquet: unique,
    compactedMalformed,
    compactedSources,
    notices,
  };
}
