/**
 * `ccrouter compact` (docs/records.md, "Records at scale"): closed pair files, searched recursively as
 * the report searches them → zstd Parquet under `DIR2/pairs/date=YYYY-MM-DD/<source>.parquet`
 * (see {@link parquetBase} for a file in a subdirectory), listed in `DIR2/manifest.json`.
 *
 * Safe beside a running proxy and a running report, in this order for each source:
 *   1. its lines are read as the report reads them (report/jsonl.ts: malformed lines counted);
 *   2. Parquet is written under a hidden work directory of DIR2 (a full disk leaves nothing under a
 *      final name) and read back: rows counted per file, equal to what was read, or the source is
 *      left alone;
 *   3. the source is checked unchanged since step 1, the files are renamed to their final names, and
 *      the manifest, rewritten whole and renamed over the old one, lists them;
 *   4. with `--delete`, a closed source is removed, only now.
 * A report running meanwhile reads either the JSONL (not yet listed) or the listed Parquet, never
 * both (report/sources.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { CCR_ERR_INPUT } from '../errors.js';
import { MAX_LINE_BYTES } from '../report/clean-lines.js';
import { DEFAULT_MEMORY, lineLimitFor, openBoundedDatabase } from '../report/database.js';
import { createJsonLinesTable, literalPath, loadJsonLines, scalar } from '../report/jsonl.js';
import { count, queriesOn, sqlString } from '../report/sql.js';
import { pairSources, type PairSource } from './closed.js';
import { emptyManifest, headDigest, MANIFEST_NAME, readManifest, writeManifest, type Manifest, type ParquetPart, type SourceEntry } from './manifest.js';
import { DAY_EXPR, PAIR_PARQUET_COLUMNS, PAIR_PARQUET_SUSPECT } from './schema.js';

export interface CompactOptions {
  /** The log directory holding the pair files. */
  logs: string;
  /** Where Parquet and the manifest go (default `<logs>/parquet`). */
  out?: string;
  /** Convert live files too (a file a writer may still append to). */
  all?: boolean;
  /** Remove each closed source once its Parquet was read back and counted equal. */
  delete?: boolean;
  /** Bytes DuckDB may use (as `report --memory`). */
  memory?: number;
  onProgress?: (message: string) => void;
}

export interface CompactResult {
  out: string;
  converted: { name: string; rows: number; malformed: number; files: number; bytes: number }[];
  upToDate: string[];
  /** Live files left for a later run (without `--all`). */
  live: string[];
  deleted: string[];
  /** Sources that could not be converted, with why; each kept as it was. */
  failed: { name: string; reason: string }[];
}

const WORK_PREFIX = '.compact-';

/** Takes DIR2's lock (a file created exclusively); a lock whose process is gone is taken over. */
function lock(out: string): () => void {
  const file = path.join(out, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(file, { force: true });
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(file, 'utf8'));
      let alive = false;
      try {
        alive = Number.isSafeInteger(pid) && pid > 0 && (process.kill(pid, 0), true);
      } catch (e) {
        alive = (e as { code?: string }).code === 'EPERM';
      }
      if (alive) throw new CCR_ERR_INPUT(`--out ${out}: another compact (pid ${pid}) is running (${file})`);
      fs.rmSync(file, { force: true });
    }
  }
  throw new CCR_ERR_INPUT(`--out ${out}: cannot take the lock ${file}`);
}

function statSize(file: string): number | null {
  try {
    return fs.statSync(file).size;
  } catch {
    return null;
  }
}

/** Every listed Parquet file is there as written, and its footer counts the listed rows: the read-back `--delete` needs. */
async function verifyParts(conn: DuckDBConnection, out: string, entry: SourceEntry): Promise<boolean> {
  for (const p of entry.parts) {
    const file = path.join(out, p.path);
    if (statSize(file) !== p.bytes) return false;
    try {
      const rows = count((await queriesOn(conn).one(`SELECT count(*) AS n FROM read_parquet($1)`, [[literalPath(file)]])).n);
      if (rows !== p.rows) return false;
    } catch {
      return false;
    }
  }
  return entry.parts.reduce((s, p) => s + p.rows, 0) === entry.rows;
}

/**
 * The Parquet base name of a source: its file name without `.jsonl`, led by its subdirectories below
 * the log directory joined with `~` (`pod-a/pairs.3.jsonl` → `pod-a~pairs.3`), so that same-named
 * files of two instances stay apart in one day's directory (docs/records.md, "Records at scale").
 * A name that holds a `~` of its own would make that ambiguous: a digest of the path stands for its
 * directories instead.
 */
export function parquetBase(name: string): string {
  const parts = name.replace(/\.jsonl$/, '').split('/');
  if (name.includes('~')) return `${parts[parts.length - 1]!}.${crypto.createHash('sha256').update(name).digest('hex').slice(0, 12)}`;
  return parts.join('~');
}

/** The manifest key and Parquet base name for a source: a new file reusing a converted one's name gets its own. */
function keyFor(manifest: Manifest, source: PairSource, rel: string, head: string): { key: string; base: string } {
  const stem = parquetBase(source.name);
  const prior = manifest.sources[source.name];
  if (prior === undefined || (prior.path === rel && prior.head === head)) return { key: source.name, base: stem };
  const tag = head.slice(0, 12);
  return { key: `${source.name}@${tag}`, base: `${stem}.${tag}` };
}

/** Converts one source; returns its manifest entry (the files are in place when it returns). */
async function convert(conn: DuckDBConnection, out: string, source: PairSource, rel: string, base: string,
  size: number, head: string, work: string, maxLineBytes: number): Promise<SourceEntry> {
  await createJsonLinesTable(conn, 'staging', PAIR_PARQUET_COLUMNS);
  try {
    const { malformed } = await loadJsonLines(conn, 'staging', [source.file], {
      columns: PAIR_PARQUET_COLUMNS,
      maxLineBytes,
      batch: 0,
      suspect: PAIR_PARQUET_SUSPECT,
    });
    const rows = await scalar(conn, 'SELECT count(*) FROM staging');
    fs.mkdirSync(work, { recursive: true });
    if (rows > 0) {
      await conn.run(`COPY (SELECT * EXCLUDE (batch), ${DAY_EXPR} AS date FROM staging)
        TO ${sqlString(work)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date), OVERWRITE_OR_IGNORE)`);
    }
    // Read back: every file written, its rows counted.
    const parts: (ParquetPart & { tmp: string })[] = [];
    for (const d of fs.readdirSync(work).sort()) {
      const date = d.replace(/^date=/, '');
      const files = fs.readdirSync(path.join(work, d));
      for (const [i, f] of files.entries()) {
        const tmp = path.join(work, d, f);
        const n = count((await queriesOn(conn).one(`SELECT count(*) AS n FROM read_parquet($1)`, [[literalPath(tmp)]])).n);
        const name = files.length === 1 ? `${base}.parquet` : `${base}.${i}.parquet`;
        parts.push({ path: path.join('pairs', `date=${date}`, name), date, rows: n, bytes: fs.statSync(tmp).size, tmp });
      }
    }
    const written = parts.reduce((s, p) => s + p.rows, 0);
    if (written !== rows) throw new Error(`read back ${written} rows from its Parquet, expected ${rows}`);
    if (statSize(source.file) !== size || headDigest(source.file) !== head) throw new Error('changed while it was being converted');
    for (const p of parts) {
      const final = path.join(out, p.path);
      fs.mkdirSync(path.dirname(final), { recursive: true });
      fs.renameSync(p.tmp, final);
    }
    return {
      path: rel,
      size,
      head,
      lines: rows + malformed,
      rows,
      malformed,
      parts: parts.map(({ tmp: _tmp, ...p }) => p),
      compactedAt: Date.now(),
    };
  } finally {
    await conn.run('DROP TABLE IF EXISTS staging');
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Retention (docs/records.md, "Retention"): Parquet files removed on purpose (old days) whose source
 * is gone too are taken out of the manifest, so that the report stops noting them as missing.
 */
function forgetPruned(out: string, manifest: Manifest, result: CompactResult): void {
  let changed = false;
  for (const [key, e] of Object.entries(manifest.sources)) {
    if (statSize(path.resolve(out, e.path)) !== null) continue;
    const kept = e.parts.filter((p) => statSize(path.join(out, p.path)) !== null);
    if (kept.length === e.parts.length) continue;
    changed = true;
    if (kept.length === 0) delete manifest.sources[key];
    else manifest.sources[key] = { ...e, parts: kept, rows: kept.reduce((s, p) => s + p.rows, 0) };
  }
  if (!changed) return;
  try {
    writeManifest(out, manifest);
  } catch (err) {
    result.failed.push({ name: MANIFEST_NAME, reason: `removed Parquet files not taken out of it: ${(err as Error).message}` });
  }
}

/** Runs a compaction; throws CCR_ERR_INPUT for a missing directory or a held lock. */
export async function compact(opts: CompactOptions): Promise<CompactResult> {
  const dir = path.resolve(opts.logs);
  try {
    if (!fs.statSync(dir).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new CCR_ERR_INPUT(`--logs ${opts.logs}: no such directory`);
  }
  const out = path.resolve(opts.out ?? path.join(dir, 'parquet'));
  try {
    fs.mkdirSync(out, { recursive: true });
  } catch (err) {
    throw new CCR_ERR_INPUT(`--out ${opts.out ?? out}: cannot create it (${(err as Error).message})`);
  }
  const progress = opts.onProgress ?? (() => {});
  const unlock = lock(out);
  const result: CompactResult = { out, converted: [], upToDate: [], live: [], deleted: [], failed: [] };
  try {
    const read = readManifest(out);
    const manifest = read?.manifest ?? emptyManifest();
    // Written before any Parquet: from now on a report reads under DIR2 only what the manifest lists.
    if (read === null) writeManifest(out, manifest);
    // Its own output is not searched (nor another compact's: a directory with a manifest).
    const sources = await pairSources(dir, [out]);
    const db = await openBoundedDatabase(opts.memory, 'ccrouter-compact-');
    const maxLineBytes = lineLimitFor(opts.memory ?? DEFAULT_MEMORY, MAX_LINE_BYTES);
    const conn = await db.instance.connect();
    try {
      for (const [i, source] of sources.entries()) {
        if (!source.closed && !opts.all) {
          result.live.push(source.name);
          continue;
        }
        const size = statSize(source.file);
        const head = headDigest(source.file);
        if (size === null || head === null) continue; // removed meanwhile (rotation's `keep`)
        const rel = path.relative(out, source.file);
        const { key, base } = keyFor(manifest, source, rel, head);
        const prior = manifest.sources[key];
        let entry: SourceEntry;
        const intact = (e: SourceEntry) => e.parts.every((p) => statSize(path.join(out, p.path)) === p.bytes);
        if (prior && prior.size === size && prior.head === head && prior.path === rel && intact(prior)) {
          entry = prior;
          result.upToDate.push(source.name);
        } else {
          progress(`compacting ${i + 1}/${sources.length}: ${source.name} (${(size / 1e6).toFixed(1)} MB)…`);
          try {
            entry = await convert(conn, out, source, rel, base, size, head, path.join(out, `${WORK_PREFIX}${process.pid}-${i}`), maxLineBytes);
          } catch (err) {
            result.failed.push({ name: source.name, reason: (err as Error).message.split('\n')[0]! });
            continue;
          }
          const stale = (prior?.parts ?? []).filter((p) => !entry.parts.some((q) => q.path === p.path));
          manifest.sources[key] = entry;
          try {
            writeManifest(out, manifest);
          } catch (err) {
            if (prior) manifest.sources[key] = prior;
            else delete manifest.sources[key];
            result.failed.push({ name: source.name, reason: `manifest not written: ${(err as Error).message}` });
            continue;
          }
          for (const p of stale) fs.rmSync(path.join(out, p.path), { force: true });
          const bytes = entry.parts.reduce((s, p) => s + p.bytes, 0);
          result.converted.push({ name: source.name, rows: entry.rows, malformed: entry.malformed, files: entry.parts.length, bytes });
          progress(`${source.name}: ${entry.rows} rows → ${entry.parts.length} Parquet file${entry.parts.length === 1 ? '' : 's'} ` +
            `(${(bytes / 1e6).toFixed(1)} MB)`);
        }
        // A live file taken with --all is kept: its writer may append after the read.
        if (opts.delete && source.closed) {
          if (statSize(source.file) === entry.size && headDigest(source.file) === entry.head && (await verifyParts(conn, out, entry))) {
            fs.rmSync(source.file, { force: true });
            result.deleted.push(source.name);
          } else {
            result.failed.push({ name: source.name, reason: 'not deleted: its Parquet did not read back as listed' });
          }
        }
      }
      forgetPruned(out, manifest, result);
    } finally {
      conn.closeSync();
      db.close();
    }
  } finally {
    unlock();
  }
  return result;
}
