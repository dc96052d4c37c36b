/**
 * The DuckDB database a report (or a compaction) works in, bounded in memory (docs/report.md,
 * "Memory"): an in-memory database with a `memory_limit` taken from `--memory` (DuckDB's own default
 * is most of the machine's memory) and a private temporary directory for what it spills beyond it,
 * stored tables included. The directory is removed on close.
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
 * result sets turned into JavaScript values) nor every buffer of its JSON reader.
 */
const ENGINE_SHARE = 0.75;

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
 * a buffer of twice its object size, and the pairs and the outcomes are read side by side, so the
 * default 256 MiB holds from the default `--memory` up (docs/report.md, "Limits").
 */
export function lineLimitFor(memory: number, requested: number): number {
  return Math.min(requested, Math.max(32 * 1024 ** 2, Math.floor((memory * ENGINE_SHARE) / 6)));
}

export interface BoundedDatabase {
  instance: DuckDBInstance;
  /** The private directory holding what spills. */
  dir: string;
  /** Releases the database and removes its directory. */
  close(): void;
}

/** A fresh database file under the system's temporary directory, limited to a share of `memory` bytes. */
export async function openBoundedDatabase(memory: number = DEFAULT_MEMORY, prefix = 'ccrouter-report-'): Promise<BoundedDatabase> {
  if (!Number.isSafeInteger(memory) || memory < MIN_MEMORY) {
    throw new CCR_ERR_USAGE(`--memory: must be at least ${MIN_MEMORY} bytes, got ${String(memory)}`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    const limitMb = Math.max(1, Math.floor((memory * ENGINE_SHARE) / 1024 ** 2));
    // In memory rather than a database file: a file adds its write-ahead log and checkpoints to every
    // table stored, and spills no less (docs/benchmarks.md, "Report at scale").
    const instance = await DuckDBInstance.create(':memory:', {
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
