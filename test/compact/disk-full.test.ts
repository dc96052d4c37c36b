import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compact } from '../../src/compact/convert.js';
import { readManifest } from '../../src/compact/manifest.js';
import { buildReport } from '../../src/report/build.js';
import { pair, writeLogs } from '../report/helpers.js';

/** A tmpfs of `size` mounted at a fresh directory (root only); null when it cannot be mounted here. */
function tinyDisk(root: string, size: string): string | null {
  const mnt = path.join(root, 'disk');
  fs.mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return mnt;
}

test('disk full during compact: no Parquet under its final name, the source kept, the report unchanged', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-compact-disk-'));
  const disk = tinyDisk(root, '256k');
  t.after(() => {
    if (disk !== null) execFileSync('umount', [disk], { stdio: 'ignore' });
    fs.rmSync(root, { recursive: true, force: true });
  });
  if (disk === null) return t.skip('mounting a tmpfs needs root');
  const dir = path.join(root, 'logs');
  // Random ids compress badly: this file's Parquet is larger than the disk.
  const pairs = Array.from({ length: 20_000 }, (_, i) => pair({
    time: Date.UTC(2026, 4, 1) + i * 1000,
    requestId: crypto.randomBytes(16).toString('hex'),
    unit: crypto.randomBytes(16).toString('hex'),
  }));
  writeLogs(dir, { 'pairs.1.jsonl': pairs, 'pairs.2.jsonl': [pair()] });
  const before = fs.readFileSync(path.join(dir, 'pairs.1.jsonl'));
  const expected = await buildReport({ logs: dir });
  const out = path.join(disk, 'parquet');
  const r = await compact({ logs: dir, out, delete: true });
  assert.deepEqual(r.failed.map((f) => f.name), ['pairs.1.jsonl']);
  assert.match(r.failed[0]!.reason, /space|write/i);
  assert.deepEqual(r.deleted, []);
  assert.ok(fs.readFileSync(path.join(dir, 'pairs.1.jsonl')).equals(before), 'the source is kept as it was');
  const finals = fs.existsSync(path.join(out, 'pairs')) ? fs.readdirSync(path.join(out, 'pairs'), { recursive: true }) : [];
  assert.deepEqual(finals.filter((f) => String(f).endsWith('.parquet')), [], 'no Parquet under a final name');
  assert.deepEqual(fs.readdirSync(out).filter((f) => f.startsWith('.compact-')), [], 'no work left behind');
  assert.deepEqual(Object.keys(readManifest(out)!.manifest.sources), []);
  assert.deepEqual(await buildReport({ logs: [dir, out] }), expected);
});
