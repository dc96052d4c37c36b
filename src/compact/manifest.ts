/**
 * The manifest of a Parquet directory written by `ccrouter compact` (docs/records.md, "Records at
 * scale"): every source file converted, with what identifies it (size, a digest of its first bytes)
 * and what it became (Parquet files and their row counts). `compact` reads it to convert only what is
 * new; the report reads it to count each record once.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const MANIFEST_NAME = 'manifest.json';
export const MANIFEST_FORMAT = 'ccrouter-compact/1';
/** Bytes of a source's beginning digested: they tell a file apart from a later one reusing its name. */
const HEAD_BYTES = 4096;

export interface ParquetPart {
  /** Relative to the manifest's directory (`pairs/date=2026-05-01/pairs.3.parquet`). */
  path: string;
  /** UTC day of its records (`YYYY-MM-DD`), or `unknown` for records without a usable time. */
  date: string;
  rows: number;
  bytes: number;
}

export interface SourceEntry {
  /** The source JSONL, relative to the manifest's directory (`../pairs.3.jsonl`). */
  path: string;
  /** Size in bytes and digest of the first bytes when it was converted. */
  size: number;
  head: string;
  /** Non-blank lines: rows written plus malformed lines (counted as the report counts them). */
  lines: number;
  rows: number;
  malformed: number;
  parts: ParquetPart[];
  /** Epoch ms of the conversion. */
  compactedAt: number;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  /** Keyed by the source's file name (null-prototype: names come from a directory listing). */
  sources: Record<string, SourceEntry>;
}

export function emptyManifest(): Manifest {
  return { format: MANIFEST_FORMAT, sources: Object.create(null) as Record<string, SourceEntry> };
}

/** sha256 of the first bytes of `file` (hex); null when it cannot be read. */
export function headDigest(file: string): string | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const n = fs.readSync(fd, buf, 0, HEAD_BYTES, 0);
    return crypto.createHash('sha256').update(buf.subarray(0, n)).digest('hex');
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isRelative = (v: unknown): v is string => typeof v === 'string' && v !== '' && !v.includes('\0') && !path.isAbsolute(v);

function validPart(v: unknown): v is ParquetPart {
  const p = v as ParquetPart;
  return typeof v === 'object' && v !== null && isRelative(p.path) && typeof p.date === 'string' && isCount(p.rows) && isCount(p.bytes);
}

function validEntry(v: unknown): v is SourceEntry {
  const e = v as SourceEntry;
  return typeof v === 'object' && v !== null && isRelative(e.path) && isCount(e.size) && typeof e.head === 'string' &&
    isCount(e.lines) && isCount(e.rows) && isCount(e.malformed) && Array.isArray(e.parts) && e.parts.every(validPart) &&
    typeof e.compactedAt === 'number';
}

export type ManifestRead = { manifest: Manifest; problems: string[] } | null;

/**
 * The manifest in `dir`; null when there is none or the file is not a ccrouter manifest. Entries
 * that do not parse are left out and named in `problems` (their sources are then read as JSONL).
 */
export function readManifest(dir: string): ManifestRead {
  const file = path.join(dir, MANIFEST_NAME);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null;
    return { manifest: emptyManifest(), problems: [`${file}: unreadable (${(err as Error).message}); its sources are read as JSONL`] };
  }
  const m = raw as { format?: unknown; sources?: unknown };
  if (typeof raw !== 'object' || raw === null || m.format !== MANIFEST_FORMAT) return null;
  const manifest = emptyManifest();
  const problems: string[] = [];
  if (typeof m.sources === 'object' && m.sources !== null) {
    for (const [name, entry] of Object.entries(m.sources)) {
      if (validEntry(entry)) manifest.sources[name] = entry;
      else problems.push(`${file}: the entry for ${JSON.stringify(name)} is not valid; that source is read as JSONL`);
    }
  }
  return { manifest, problems };
}

/** Writes the manifest whole under a temporary name, then renames it: a reader sees the old or the new one. */
export function writeManifest(dir: string, manifest: Manifest): void {
  const file = path.join(dir, MANIFEST_NAME);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, JSON.stringify(manifest, null, 1) + '\n');
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}
