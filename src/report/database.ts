/**
 * The DuckDB database a report (or a compaction) works in, bounded in memory (docs/report.md,
 * "Memory"): a `memory_limit` taken from `--memory` (DuckDB's own default is most of the machine's
 * memory) and a private temporary directory for what spills beyond it. The database itself lives in
 * memory when what it stores fits, else in a file in that directory ({@link storesOnDisk}). The
 * directory is removed on close.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { CCR_ERR_USAGE } from '../errors.js';

/** The default `--memory`: 2 GiB. */
export const DEFAULT_MEMORY = 2 * 1024 ** 3;
/** Below this the engine cannot hold one row group of each query at once. */
const MIN_MEMORY = 64 * 1024 ** 2;

/**
 * DuckDB's own limit is a share of the whole: it does not count the process itself (Node, the
 * result sets turned into JavaScript values) nor all of its own allocations (docs/benchmarks.md,
 * "Report at scale": 100 million records peaked at 1.1 GB above a limit of three quarters).
 */
const ENGINE_SHARE = 0.6;

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4 };

/** `--memory` as bytes: a number with an optional unit (k, m, g, t; binary), e.g. `2g`, `512m`. */
export function parseMemory(flag: string, value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new CCR_ERR_USAGE(`${flag}: "${value}" is not a size (a number with k, m, g or t, e.g. 2g or 512m)`);
  }
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes < MIN_MEMORY) {
    throw new CCR_ERR_USAGE(`${flag}: "${value}" is below the least the report can work in (${MIN_MEMORY / 1024 ** 2}m)`);
  }
  return bytes;
}

/**
 * The longest line the JSON readers may be asked to hold within `memory`: each reader thread keeps
 * a buffer of twice its object size, and the table being written needs room beside them, so the
 * default 256 MiB holds from the default `--memory` up (docs/report.md, "Limits").
 */
export function lineLimitFor(memory: number, requested: number): number {
  return Math.min(requested, Math.max(32 * 1024 ** 2, Math.floor(memory / 8)));
}

/**
 * Bytes a stored record takes, per byte of its source, in DuckDB's memory (its in-memory tables are
 * not compressed): measured on realistic pair files (docs/benchmarks.md, "Report at scale").
 */
const IN_MEMORY_PER_JSONL_BYTE = 0.7;
const IN_MEMORY_PER_PARQUET_BYTE = 14;

/**
 * Whether the records from sources of these sizes should be stored in a database file rather than
 * in memory. In memory a table costs nothing to write but every byte of it counts against the
 * limit, and what does not fit is written out uncompressed and read back at every scan; a file
 * compresses it (about a tenth of the size) at a cost when it is written. So: on disk once the
 * records would fill half of DuckDB's share of `memory`, leaving the rest to the queries.
 */
export function storesOnDisk(memory: number, source: { jsonl: number; parquet: number }): boolean {
  const estimate = source.jsonl * IN_MEMORY_PER_JSONL_BYTE + source.parquet * IN_MEMORY_PER_PARQUET_BYTE;
  return estimate > (memory * ENGINE_SHARE) / 2;
}

export interface BoundedDatabase {
  instance: DuckDBInstance;
  /** The private directory holding what spills. */
  dir: string;
  /** Releases the database and removes its directory. */
  close(): void;
}

/**
 * A fresh database under the system's temporary directory, limited to a share of `memory` bytes:
 * in memory, or with `onDisk` in a file of that directory.
 */
export async function openBoundedDatabase(memory: number = DEFAULT_MEMORY, prefix = 'ccrouter-report-', onDisk = false): Promise<BoundedDatabase> {
  if (!Number.isSafeInteger(memory) || memory < MIN_MEMORY) {
    throw new CCR_ERR_USAGE(`--memory: must be at least ${MIN_MEMORY} bytes, got ${String(memory)}`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    const limitMb = Math.max(1, Math.floor((memory * ENGINE_SHARE) / 1024 ** 2));
    const instance = await DuckDBInstance.create(onDisk ? path.join(dir, 'records.duckdb') : ':memory:', {
      memory_limit: `${limitMb}MiB`,
      temp_directory: path.join(dir, 'spill'),
    });
    let closed = false;
    return {
      instance,
      dir,
      close() {
        if (closed) return;
        closed = true;
        try {
          instance.closeSync();
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
