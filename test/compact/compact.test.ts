import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { compact } from '../../src/compact/convert.js';
import { MANIFEST_NAME, readManifest } from '../../src/compact/manifest.js';
import { runCompact } from '../../src/commands/compact.js';
import { buildReport, labelledScores, runReport } from '../../src/commands/report.js';
import { assertSameReport, io, randomLogs, tempDir, writeLogs } from '../report/helpers.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 4, 1, 6);

/** Random records over three UTC days, split over rotated files as pino-roll names them. */
function threeDays(seed: number, n: number) {
  const d = randomLogs(seed, n);
  d.pairs.forEach((p, i) => (p.time = T0 + Math.floor((i * 3 * DAY) / n)));
  const third = Math.ceil(n / 3);
  return {
    ...d,
    files: {
      'pairs.1.jsonl': d.pairs.slice(0, third),
      'pairs.2.jsonl': d.pairs.slice(third, 2 * third),
      'pairs.3.jsonl': d.pairs.slice(2 * third),
      'outcomes.jsonl': d.outcomes,
      'events.jsonl': d.events,
    },
  };
}

function copyDir(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}

async function scores(logs: string | string[]) {
  const rows: string[] = [];
  for await (const r of labelledScores({ logs })) rows.push(JSON.stringify(r));
  return rows.sort();
}

test('compacted records give the report and the calibration of their JSONL, counts exact', async (t) => {
  const root = tempDir(t);
  const jsonl = path.join(root, 'jsonl');
  const both = path.join(root, 'both');
  const d = threeDays(7, 900);
  writeLogs(jsonl, { ...d.files, 'pairs.2.jsonl': [...d.files['pairs.2.jsonl'], '{"cut', '[1,2]'] });
  copyDir(jsonl, both);
  const r = await compact({ logs: both, all: true });
  assert.equal(r.converted.length, 3);
  assert.equal(r.converted.reduce((s, c) => s + c.rows, 0), 900);
  assert.equal(r.converted.reduce((s, c) => s + c.malformed, 0), 2);
  const days = fs.readdirSync(path.join(both, 'parquet', 'pairs')).sort();
  assert.deepEqual(days, ['date=2026-05-01', 'date=2026-05-02', 'date=2026-05-03', 'date=2026-05-04']);
  for (const segment of [undefined, 'country']) {
    const opts = segment ? { segment } : {};
    const expected = await buildReport({ logs: jsonl, ...opts });
    assertSameReport(await buildReport({ logs: both, ...opts }), expected);
    // Parquet alone (the JSONL removed): the same again.
    const pq = path.join(root, `pq-${segment ?? 'all'}`);
    copyDir(both, pq);
    for (const f of Object.keys(d.files)) if (f.startsWith('pairs')) fs.rmSync(path.join(pq, f));
    assertSameReport(await buildReport({ logs: pq, ...opts }), expected);
  }
  assert.deepEqual(await scores(both), await scores(jsonl));
});

test('a second compact converts nothing: the manifest lists each source with its lines and size', async (t) => {
  const dir = tempDir(t);
  writeLogs(dir, threeDays(3, 90).files);
  const first = await compact({ logs: dir, all: true });
  assert.equal(first.converted.length, 3);
  const before = fs.readFileSync(path.join(dir, 'parquet', MANIFEST_NAME), 'utf8');
  const second = await compact({ logs: dir, all: true });
  assert.deepEqual(second.converted, []);
  assert.deepEqual(second.upToDate.sort(), ['pairs.1.jsonl', 'pairs.2.jsonl', 'pairs.3.jsonl']);
  assert.equal(fs.readFileSync(path.join(dir, 'parquet', MANIFEST_NAME), 'utf8'), before);
  const m = readManifest(path.join(dir, 'parquet'))!.manifest;
  const e = m.sources['pairs.1.jsonl']!;
  assert.equal(e.size, fs.statSync(path.join(dir, 'pairs.1.jsonl')).size);
  assert.equal(e.lines, 30);
  assert.equal(e.path, path.join('..', 'pairs.1.jsonl'));
});

test('without --all only closed files are converted: every rotated file but the last, all after a shutdown', async (t) => {
  const dir = tempDir(t);
  const d = threeDays(4, 90);
  writeLogs(dir, { ...d.files, 'pairs-w1.1.jsonl': d.pairs.slice(0, 5), 'pairs-w1.2.jsonl': d.pairs.slice(5, 9) });
  const r = await compact({ logs: dir });
  assert.deepEqual(r.converted.map((c) => c.name).sort(), ['pairs-w1.1.jsonl', 'pairs.1.jsonl', 'pairs.2.jsonl']);
  assert.deepEqual(r.live.sort(), ['pairs-w1.2.jsonl', 'pairs.3.jsonl']);
  fs.appendFileSync(path.join(dir, 'events.jsonl'), JSON.stringify({ level: 30, time: T0 + 4 * DAY, msg: 'event', type: 'shutdown' }) + '\n');
  const after = await compact({ logs: dir });
  assert.deepEqual(after.converted.map((c) => c.name).sort(), ['pairs-w1.2.jsonl', 'pairs.3.jsonl']);
  fs.appendFileSync(path.join(dir, 'events.jsonl'), JSON.stringify({ level: 30, time: T0 + 5 * DAY, msg: 'event', type: 'start' }) + '\n');
  fs.appendFileSync(path.join(dir, 'pairs.3.jsonl'), JSON.stringify(d.pairs[0]) + '\n');
  assert.deepEqual((await compact({ logs: dir })).live.sort(), ['pairs-w1.2.jsonl', 'pairs.3.jsonl']);
});

test('--delete removes a source only once its Parquet read back equal, and the report still counts each record once', async (t) => {
  const root = tempDir(t);
  const dir = path.join(root, 'logs');
  const ref = path.join(root, 'ref');
  const d = threeDays(5, 300);
  writeLogs(dir, d.files);
  copyDir(dir, ref);
  const expected = await buildReport({ logs: ref });
  const r = await compact({ logs: dir, delete: true });
  assert.deepEqual(r.deleted.sort(), ['pairs.1.jsonl', 'pairs.2.jsonl']);
  assert.ok(fs.existsSync(path.join(dir, 'pairs.3.jsonl')), 'the live file is kept');
  assertSameReport(await buildReport({ logs: dir }), expected);
  // A Parquet file that no longer reads back as listed: the source is kept.
  const dir2 = path.join(root, 'logs2');
  writeLogs(dir2, d.files);
  await compact({ logs: dir2 });
  const part = readManifest(path.join(dir2, 'parquet'))!.manifest.sources['pairs.1.jsonl']!.parts[0]!;
  fs.truncateSync(path.join(dir2, 'parquet', part.path), 100);
  const again = await compact({ logs: dir2, delete: true });
  assert.ok(fs.existsSync(path.join(dir2, 'pairs.1.jsonl')) || again.converted.some((c) => c.name === 'pairs.1.jsonl'));
  assertSameReport(await buildReport({ logs: dir2 }), expected);
});

test('a manifest that lies (a listed Parquet file missing): the JSONL is read, no record lost, and the report says so', async (t) => {
  const root = tempDir(t);
  const dir = path.join(root, 'logs');
  writeLogs(dir, threeDays(6, 300).files);
  const expected = await buildReport({ logs: dir });
  await compact({ logs: dir, all: true });
  const part = readManifest(path.join(dir, 'parquet'))!.manifest.sources['pairs.2.jsonl']!.parts[0]!;
  fs.rmSync(path.join(dir, 'parquet', part.path));
  const c = io(false);
  assert.equal(await runReport(['--logs', dir, '--format', 'json'], c.io), 0);
  const lied = JSON.parse(c.out.join(''));
  assertSameReport(lied, expected);
  assert.match(c.err.join(''), /note: .*manifest\.json \(pairs\.2\.jsonl\) lists Parquet that is missing .*pairs\.2\.jsonl read as JSONL instead/);
  // Said in the report too, not only on stderr.
  assert.equal(lied.window.notices.length, 1);
  assert.match(lied.window.notices[0], /manifest\.json \(pairs\.2\.jsonl\) lists Parquet that is missing .*pairs\.2\.jsonl read as JSONL instead/);
  assert.deepEqual(expected.window.notices, []);
  // A source that grew after it was converted: read as JSONL, its Parquet left out.
  fs.appendFileSync(path.join(dir, 'pairs.3.jsonl'), '\n');
  const g = io(false);
  assert.equal(await runReport(['--logs', dir, '--format', 'json'], g.io), 0);
  assertSameReport(JSON.parse(g.out.join('')), expected);
  assert.match(g.err.join(''), /pairs\.3\.jsonl changed since it was compacted/);
});

test('a truncated Parquet file or one of another schema is named, skipped and counted in malformedLines; --strict fails', async (t) => {
  const root = tempDir(t);
  const src = path.join(root, 'src');
  writeLogs(src, threeDays(8, 60).files);
  await compact({ logs: src, all: true });
  const dir = path.join(root, 'logs');
  writeLogs(dir, { 'pairs.jsonl': threeDays(9, 30).pairs });
  // Parquet files outside any manifest are read as they are.
  const part = readManifest(path.join(src, 'parquet'))!.manifest.sources['pairs.1.jsonl']!.parts[0]!;
  const good = path.join(dir, 'extra', 'good.parquet');
  fs.mkdirSync(path.dirname(good), { recursive: true });
  fs.copyFileSync(path.join(src, 'parquet', part.path), good);
  const truncated = path.join(dir, 'extra', 'truncated.parquet');
  fs.writeFileSync(truncated, fs.readFileSync(good).subarray(0, 200));
  const other = path.join(dir, 'extra', 'other.parquet');
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run(`COPY (SELECT 1 AS a, 'x' AS time) TO '${other.replace(/'/g, "''")}' (FORMAT parquet)`);
  conn.closeSync();
  db.closeSync();
  const c = io(false);
  assert.equal(await runReport(['--logs', dir, '--format', 'json'], c.io), 0);
  const report = JSON.parse(c.out.join(''));
  assert.equal(report.window.malformedLines, 2);
  assert.equal(report.window.records + report.window.rejected, 30 + part.rows);
  const err = c.err.join('');
  assert.match(err, /truncated\.parquet: not a readable Parquet file/);
  assert.match(err, /other\.parquet: another schema/);
  const s = io(false);
  assert.equal(await runReport(['--logs', dir, '--format', 'json', '--strict'], s.io), 2);
  assert.match(s.err.join(''), /(truncated|other)\.parquet: /);
});

test('--since/--until read only the partitions of the window', async (t) => {
  const dir = tempDir(t);
  writeLogs(dir, threeDays(10, 300).files);
  const window = { since: T0 + DAY - 6 * 3600_000 + DAY, until: T0 + 2 * DAY };
  const expected = await buildReport({ logs: dir, ...window });
  await compact({ logs: dir, all: true, delete: true });
  for (const f of ['pairs.1.jsonl', 'pairs.2.jsonl', 'pairs.3.jsonl']) fs.rmSync(path.join(dir, f), { force: true });
  // Day one's file made unreadable: a window that does not reach it never opens it.
  const m = readManifest(path.join(dir, 'parquet'))!.manifest;
  for (const e of Object.values(m.sources)) {
    for (const p of e.parts) if (p.date === '2026-05-01') fs.writeFileSync(path.join(dir, 'parquet', p.path), Buffer.alloc(p.bytes));
  }
  const notes: string[] = [];
  assertSameReport(await buildReport({ logs: dir, ...window, onNotice: (n) => notes.push(n) }), expected);
  assert.deepEqual(notes, []);
  const all: string[] = [];
  await buildReport({ logs: dir, onNotice: (n) => all.push(n) });
  assert.ok(all.some((n) => /not a readable Parquet file/.test(n)), all.join('\n'));
});

test('repeated --logs: report and calibrate read the union of the directories', async (t) => {
  const root = tempDir(t);
  const d = threeDays(11, 400);
  const one = path.join(root, 'one');
  writeLogs(one, d.files);
  const a = path.join(root, 'a');
  const b = path.join(root, 'b');
  writeLogs(a, { 'pairs.1.jsonl': d.files['pairs.1.jsonl'], 'events.jsonl': d.events, 'outcomes.jsonl': d.outcomes });
  writeLogs(b, { 'pairs.2.jsonl': d.files['pairs.2.jsonl'], 'pairs.3.jsonl': d.files['pairs.3.jsonl'] });
  await compact({ logs: b, all: true, delete: true });
  const expected = await buildReport({ logs: one });
  assertSameReport(await buildReport({ logs: [a, b] }), expected);
  const c = io(false);
  assert.equal(await runReport(['--logs', a, '--logs', b, '--logs', a, '--format', 'json'], c.io), 0);
  assertSameReport(JSON.parse(c.out.join('')), expected);
  assert.deepEqual(await scores([a, b]), await scores(one));
});

test('compact: bad usage and a held lock are refused with the flag or file named', async (t) => {
  const dir = tempDir(t);
  writeLogs(dir, threeDays(12, 30).files);
  const c = io(false);
  assert.equal(await runCompact([], c.io), 2);
  assert.match(c.err.join(''), /--logs DIR is required/);
  const m = io(false);
  assert.equal(await runCompact(['--logs', dir, '--memory', 'lots'], m.io), 2);
  assert.match(m.err.join(''), /--memory: "lots" is not a size/);
  const n = io(false);
  assert.equal(await runCompact(['--logs', path.join(dir, 'nope')], n.io), 2);
  assert.match(n.err.join(''), /--logs .*nope: no such directory/);
  fs.mkdirSync(path.join(dir, 'parquet'));
  fs.writeFileSync(path.join(dir, 'parquet', '.lock'), String(process.pid));
  const l = io(false);
  assert.equal(await runCompact(['--logs', dir, '--all'], l.io), 2);
  assert.match(l.err.join(''), /another compact \(pid \d+\) is running/);
  fs.rmSync(path.join(dir, 'parquet', '.lock'));
  const ok = io(true);
  assert.equal(await runCompact(['--logs', dir, '--all'], ok.io), 0);
  assert.match(ok.out.join(''), /converted 3 files \(30 rows\)/);
  assert.match(ok.err.join(''), /compacting 1\/3: pairs\.1\.jsonl \(0\.0 MB\)…[^\n]*\n[^\n]*pairs\.1\.jsonl: 10 rows → 2 Parquet files/);
});

test('report --memory: a size is parsed (k, m, g), nonsense and too little refused naming the flag', async (t) => {
  const dir = tempDir(t);
  writeLogs(dir, threeDays(13, 60).files);
  const expected = await buildReport({ logs: dir });
  const c = io(false);
  assert.equal(await runReport(['--logs', dir, '--format', 'json', '--memory', '300m'], c.io), 0);
  assertSameReport(JSON.parse(c.out.join('')), expected);
  for (const [v, re] of [['2x', /is not a size/], ['1m', /below the least/]] as const) {
    const e = io(false);
    assert.equal(await runReport(['--logs', dir, '--memory', v], e.io), 2);
    assert.match(e.err.join(''), re);
  }
});

test('retention: days removed by hand are taken out of the manifest by the next compact, and the report stops noting them', async (t) => {
  const dir = tempDir(t);
  const d = threeDays(14, 300);
  writeLogs(dir, d.files);
  await compact({ logs: dir, all: true, delete: true });
  for (const f of ['pairs.3.jsonl']) fs.rmSync(path.join(dir, f));
  fs.rmSync(path.join(dir, 'parquet', 'pairs', 'date=2026-05-01'), { recursive: true });
  const noted: string[] = [];
  await buildReport({ logs: dir, onNotice: (n) => noted.push(n) });
  assert.ok(noted.some((n) => /not in this report/.test(n)), noted.join('\n'));
  await compact({ logs: dir });
  const after: string[] = [];
  const r = await buildReport({ logs: dir, onNotice: (n) => after.push(n) });
  assert.deepEqual(after, []);
  const kept = d.pairs.filter((p) => p.time >= Date.UTC(2026, 4, 2));
  assert.equal(r.window.records + r.window.rejected, kept.length);
});

test('a report out of memory fails with a message naming --memory (exit 1)', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  writeLogs(dir, threeDays(15, 300).files);
  const c = io(false);
  assert.equal(await runReport(['--logs', dir, '--format', 'json', '--memory', '64m'], c.io), 1);
  assert.match(c.err.join(''), /--memory 64m is too little for these logs \(Out of Memory Error/);
});

test('a hostile manifest (unparsable, bad entries, a __proto__ source, absolute paths) is noted and its sources read as JSONL', async (t) => {
  const dir = tempDir(t);
  const d = threeDays(16, 120);
  writeLogs(dir, d.files);
  const expected = await buildReport({ logs: dir });
  await compact({ logs: dir, all: true });
  const file = path.join(dir, 'parquet', MANIFEST_NAME);
  const m = JSON.parse(fs.readFileSync(file, 'utf8'));
  const sources = JSON.parse(JSON.stringify(m.sources));
  m.sources = JSON.parse('{"__proto__": {"path": "../pairs.1.jsonl"}}');
  m.sources['pairs.2.jsonl'] = { ...sources['pairs.2.jsonl'], path: '/etc/passwd' };
  m.sources['pairs.3.jsonl'] = { ...sources['pairs.3.jsonl'], rows: -1 };
  fs.writeFileSync(file, JSON.stringify(m));
  const notes: string[] = [];
  assertSameReport(await buildReport({ logs: dir, onNotice: (n) => notes.push(n) }), expected);
  assert.equal(notes.filter((n) => /is not valid; that source is read as JSONL/.test(n)).length, 3, notes.join('\n'));
  fs.writeFileSync(file, '{"format": "ccrouter-compact/1", "sources": ');
  const broken: string[] = [];
  assertSameReport(await buildReport({ logs: dir, onNotice: (n) => broken.push(n) }), expected);
  assert.match(broken.join('\n'), /manifest\.json: unreadable/);
  // compact repairs it: every source converted again, the report back to Parquet.
  const again = await compact({ logs: dir, all: true });
  assert.equal(again.converted.length, 3);
  const after: string[] = [];
  assertSameReport(await buildReport({ logs: dir, onNotice: (n) => after.push(n) }), expected);
  assert.deepEqual(after, []);
});

test("a log directory named lo'g[1]*? compacts and reports as any other: names are never SQL or patterns", async (t) => {
  const root = tempDir(t);
  const dir = path.join(root, "lo'g[1]*?");
  const d = threeDays(17, 60);
  writeLogs(dir, d.files);
  // A sibling the pattern `lo'g[1]*?` would match if it were read as one.
  writeLogs(path.join(root, "lo'g1xx"), { 'pairs.1.jsonl': threeDays(18, 30).pairs });
  const expected = await buildReport({ logs: dir });
  const r = await compact({ logs: dir, all: true });
  assert.deepEqual(r.failed, []);
  assert.equal(r.converted.length, 3);
  for (const f of ['pairs.1.jsonl', 'pairs.2.jsonl', 'pairs.3.jsonl']) fs.rmSync(path.join(dir, f));
  const notes: string[] = [];
  assertSameReport(await buildReport({ logs: dir, onNotice: (n) => notes.push(n) }), expected);
  assert.deepEqual(notes, []);
});

test('batch records compact to Parquet and give the report and the calibration of their JSONL', async (t) => {
  const fixture = JSON.parse(fs.readFileSync(new URL('../fixtures/report/batch.json', import.meta.url), 'utf8')) as { pairs: object[]; outcomes: object[]; events: object[] };
  assert.ok(fixture.pairs.some((p) => 'instances' in p), 'the fixture holds batch records');
  const root = tempDir(t);
  const jsonl = path.join(root, 'jsonl');
  const both = path.join(root, 'both');
  writeLogs(jsonl, { 'pairs.jsonl': fixture.pairs, 'outcomes.jsonl': fixture.outcomes, 'events.jsonl': fixture.events });
  copyDir(jsonl, both);
  const r = await compact({ logs: both, all: true });
  assert.equal(r.converted.reduce((s, c) => s + c.rows, 0), fixture.pairs.length);
  assertSameReport(await buildReport({ logs: both }), await buildReport({ logs: jsonl }));
  assert.deepEqual(await scores(both), await scores(jsonl));
});
