/**
 * compact searches the log directory as the report does: one subdirectory per instance
 * (`DIR/<pod>/pairs.N.jsonl`, same file names in each) is compacted, each file under a name of its
 * own, and the report over the result counts every record once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { compact, parquetBase } from '../../src/compact/convert.js';
import { readManifest } from '../../src/compact/manifest.js';
import { buildReport } from '../../src/commands/report.js';
import { randomLogs, tempDir, writeLogs } from '../report/helpers.js';

const PODS = ['pod-a', 'pod-b'];

/** Two instances' directories, each with rotated files of the same names, its own events and outcomes. */
function fleet(dir: string, n: number): void {
  PODS.forEach((pod, k) => {
    const d = randomLogs(40 + k, n);
    const third = Math.ceil(n / 3);
    writeLogs(path.join(dir, pod), {
      'pairs.1.jsonl': d.pairs.slice(0, third),
      'pairs.2.jsonl': d.pairs.slice(third, 2 * third),
      'pairs.3.jsonl': d.pairs.slice(2 * third),
      'outcomes.jsonl': d.outcomes,
      'events.jsonl': d.events,
    });
  });
}

/** Every Parquet file under `dir`, relative to it. */
function parquetFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet')).sort();
}

/** A report's JSON with the figures a different storage order may round differently left to the counts. */
const counts = (r: unknown) => {
  const o = JSON.parse(JSON.stringify(r)) as { window: Record<string, unknown>; labels: Record<string, unknown>; traffic: { groups: unknown } };
  return { records: o.window.records, rejected: o.window.rejected, malformed: o.window.malformedLines, labels: o.labels.n, groups: o.traffic.groups };
};

test('compact finds pair files in subdirectories (one per instance): same-named files stay apart, a re-run converts only what is new', async (t) => {
  const root = tempDir(t);
  const dir = path.join(root, 'logs');
  const ref = path.join(root, 'ref');
  fleet(dir, 300);
  fs.cpSync(dir, ref, { recursive: true });
  const expected = await buildReport({ logs: ref });
  assert.equal(expected.window.records + expected.window.rejected, 600);

  const first = await compact({ logs: dir });
  assert.deepEqual(first.converted.map((c) => c.name), ['pod-a/pairs.1.jsonl', 'pod-a/pairs.2.jsonl', 'pod-b/pairs.1.jsonl', 'pod-b/pairs.2.jsonl']);
  assert.deepEqual(first.live, ['pod-a/pairs.3.jsonl', 'pod-b/pairs.3.jsonl'], 'each directory\'s highest rotated file is live');
  assert.deepEqual(first.failed, []);
  const out = path.join(dir, 'parquet');
  const m = readManifest(out)!.manifest;
  assert.deepEqual(Object.keys(m.sources).sort(), first.converted.map((c) => c.name));
  assert.equal(m.sources['pod-b/pairs.1.jsonl']!.path, path.join('..', 'pod-b', 'pairs.1.jsonl'));
  // Same-named sources, distinct Parquet: every listed file exists, none listed twice.
  const listed = Object.values(m.sources).flatMap((e) => e.parts.map((p) => p.path)).sort();
  assert.equal(new Set(listed).size, listed.length);
  assert.deepEqual(parquetFiles(out), listed);
  assert.ok(listed.some((p) => path.basename(p).startsWith('pod-a~pairs.1')) && listed.some((p) => path.basename(p).startsWith('pod-b~pairs.1')), listed.join(', '));
  assert.equal(Object.values(m.sources).reduce((s, e) => s + e.rows, 0), first.converted.reduce((s, c) => s + c.rows, 0));

  // The report reads the live JSONL and the listed Parquet: every record once.
  const both = await buildReport({ logs: dir });
  assert.deepEqual(counts(both), counts(expected));
  assert.deepEqual(both.window.notices, [], 'nothing to say: every listed Parquet file is there and its source unchanged');

  const again = await compact({ logs: dir });
  assert.deepEqual(again.converted, []);
  assert.deepEqual(again.upToDate, first.converted.map((c) => c.name));

  // pod-a stops: its last file is closed now, pod-b's is not.
  fs.appendFileSync(path.join(dir, 'pod-a', 'events.jsonl'), JSON.stringify({ level: 30, time: 1_800_000_000_000, msg: 'event', type: 'shutdown' }) + '\n');
  const later = await compact({ logs: dir, delete: true });
  assert.deepEqual(later.converted.map((c) => c.name), ['pod-a/pairs.3.jsonl']);
  assert.deepEqual(later.deleted, ['pod-a/pairs.1.jsonl', 'pod-a/pairs.2.jsonl', 'pod-a/pairs.3.jsonl', 'pod-b/pairs.1.jsonl', 'pod-b/pairs.2.jsonl']);
  assert.deepEqual(later.live, ['pod-b/pairs.3.jsonl']);
  assert.ok(fs.existsSync(path.join(dir, 'pod-b', 'pairs.3.jsonl')));
  assert.ok(!fs.existsSync(path.join(dir, 'pod-a', 'pairs.1.jsonl')));
  assert.deepEqual(counts(await buildReport({ logs: dir })), counts(expected));
  // Nothing under the output directory is taken for a source.
  assert.deepEqual((await compact({ logs: dir, all: true })).converted.map((c) => c.name), ['pod-b/pairs.3.jsonl']);
  assert.deepEqual(counts(await buildReport({ logs: dir })), counts(expected));
});

test('compact --out elsewhere, and a second compact output inside the logs, are never searched for sources', async (t) => {
  const root = tempDir(t);
  const dir = path.join(root, 'logs');
  fleet(dir, 60);
  const inside = path.join(dir, 'pod-a', 'parquet-here');
  fs.mkdirSync(inside);
  // A stray pair file inside a compact output is not a source: that directory has a manifest.
  fs.writeFileSync(path.join(inside, 'manifest.json'), JSON.stringify({ format: 'ccrouter-compact/1', sources: {} }));
  fs.copyFileSync(path.join(dir, 'pod-a', 'pairs.1.jsonl'), path.join(inside, 'pairs.1.jsonl'));
  const r = await compact({ logs: dir, out: path.join(root, 'pq'), all: true });
  assert.deepEqual(r.converted.map((c) => c.name), PODS.flatMap((p) => [1, 2, 3].map((i) => `${p}/pairs.${i}.jsonl`)));
});

test('Parquet base names: a subdirectory leads the name; a name with its own ~ is told apart by a digest', () => {
  assert.equal(parquetBase('pairs.3.jsonl'), 'pairs.3');
  assert.equal(parquetBase('pod-a/pairs.3.jsonl'), 'pod-a~pairs.3');
  assert.equal(parquetBase('eu/pod-a/pairs-w2.1.jsonl'), 'eu~pod-a~pairs-w2.1');
  const a = parquetBase('a~b/pairs.jsonl');
  const b = parquetBase('a/b/pairs.jsonl');
  assert.equal(b, 'a~b~pairs');
  assert.notEqual(a, b);
  assert.match(a, /^pairs\.[0-9a-f]{12}$/);
});
