import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCalibrate } from '../../src/commands/calibrate.js';
import { buildTable } from '../../src/calibration/table.js';
import { tempDir } from '../helpers/proxy.js';

function io() {
  let out = '';
  let err = '';
  return { io: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } }, out: () => out, err: () => err };
}

const outcome = (score: number, version: string) => ({ version, status: 200, latencyMs: 1, score, decision: score >= 0.5, error: null });

/** 120 records: v1 champion throughout; the challenger is v2, except the last 20 records where it is v1 too. */
function writeLogs(dir: string, n = 120, [v1, v2] = ['v1', 'v2']) {
  const pairs: string[] = [];
  const outcomes: string[] = [];
  const expected = new Map<string, Array<{ score: number; label: 0 | 1 }>>();
  const add = (v: string, score: number, label: 0 | 1) => { if (!expected.has(v)) expected.set(v, []); expected.get(v)!.push({ score, label }); };
  for (let i = 0; i < n; i++) {
    const a = ((i * 37) % 100) / 100;
    const b = ((i * 53) % 100) / 100;
    const label: 0 | 1 = (i * 7) % 10 < 3 ? 1 : 0;
    const challengerVersion = i >= n - 20 ? v1 : v2;
    pairs.push(JSON.stringify({ level: 30, time: 1_700_000_000_000 + i, msg: 'pair', requestId: `r-${i}`, unit: `u-${i % 40}`, route: 'POST /p', config: 'c', assigned: 'key', bucket: 0.5, group: 'champion', served: 'champion', fallback: false, champion: outcome(a, v1), challenger: outcome(b, challengerVersion), agree: null, fields: {} }));
    // Even records are labelled here; the first test labels the odd ones in a second file.
    if (i % 2 === 0) outcomes.push(JSON.stringify({ msg: 'outcome', requestId: `r-${i}`, label }));
    add(v1, a, label);
    add(challengerVersion, b, label);
  }
  fs.writeFileSync(path.join(dir, 'pairs.jsonl'), pairs.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'outcomes.jsonl'), outcomes.join('\n') + '\n');
  return expected;
}

test('calibrate: tables per version over both roles, from records joined with their labels', async () => {
  const dir = tempDir();
  const expected = writeLogs(dir);
  // Odd records are labelled in a second file, by request id, with the same labels.
  const extra = path.join(dir, 'more.jsonl');
  const lines: string[] = [];
  for (let i = 1; i < 120; i += 2) lines.push(JSON.stringify({ requestId: `r-${i}`, label: (i * 7) % 10 < 3 ? 1 : 0 }));
  fs.writeFileSync(extra, lines.join('\n'));
  const out = path.join(dir, 'cal.json');
  const c = io();
  assert.equal(await runCalibrate(['--logs', dir, '--outcomes', extra, '--out', out], c.io), 0, c.err());
  const table = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.equal(table.metric, 'precision');
  assert.deepEqual(Object.keys(table.models).sort(), ['v1', 'v2']);
  assert.deepEqual(table.models.v1, buildTable(expected.get('v1')!, 'v1'));
  assert.deepEqual(table.models.v2, buildTable(expected.get('v2')!, 'v2'));
  assert.equal(expected.get('v1')!.length, 140, 'v1 pooled over both roles');
  for (const t of Object.values(table.models) as Array<Array<[number, number]>>) {
    for (let i = 1; i < t.length; i++) assert.ok(t[i]![1] >= t[i - 1]![1], 'non-decreasing');
  }
});

test('calibrate: a version with too few labelled records is an error naming it; bad flags are usage errors', async () => {
  const dir = tempDir();
  writeLogs(dir);
  const c = io();
  // Without the second file only even records are labelled: v2 has 50, v1 has 70 — fine; cut further:
  fs.writeFileSync(path.join(dir, 'outcomes.jsonl'), Array.from({ length: 30 }, (_, i) => JSON.stringify({ requestId: `r-${i * 2}`, label: i % 3 === 0 ? 1 : 0 })).join('\n'));
  assert.equal(await runCalibrate(['--logs', dir], c.io), 2);
  assert.match(c.err(), /v1|v2/);
  assert.match(c.err(), /50/);
  const m = io();
  assert.equal(await runCalibrate(['--logs', dir, '--metric', 'recall'], m.io), 2);
  assert.match(m.err(), /--metric/);
  const n = io();
  assert.equal(await runCalibrate([], n.io), 2);
  assert.match(n.err(), /--logs/);
  const u = io();
  assert.equal(await runCalibrate(['--logs', dir, '--bogus'], u.io), 2);
  assert.match(u.err(), /bogus/);
  const empty = tempDir();
  fs.writeFileSync(path.join(empty, 'pairs.jsonl'), fs.readFileSync(path.join(dir, 'pairs.jsonl')));
  const e = io();
  assert.equal(await runCalibrate(['--logs', empty], e.io), 2);
  assert.match(e.err(), /labelled/);
});

test('calibrate: a version name with bidi or control characters reaches stderr and the table escaped, never raw', async () => {
  const dir = tempDir();
  // U+202E (right-to-left override) would reorder the rest of a terminal line; U+0007 rings its bell.
  const evil = 'v1\u202egnp.exe\u0007';
  writeLogs(dir, 120, [evil, 'v2']);
  const raw = /[\u202e\u0007]/;
  const out = path.join(dir, 'cal.json');
  const c = io();
  assert.equal(await runCalibrate(['--logs', dir, '--out', out], c.io), 0, c.err());
  assert.doesNotMatch(c.err(), raw);
  assert.match(c.err(), /v1\\u202egnp\.exe\\u0007: 70 labelled records/);
  const file = fs.readFileSync(out, 'utf8');
  assert.doesNotMatch(file, raw);
  // Escaped in JSON: the proxy reads the file back with the version's own name.
  assert.deepEqual(Object.keys(JSON.parse(file).models).sort(), ['v2', evil].sort());
  const s = io();
  assert.equal(await runCalibrate(['--logs', dir], s.io), 0, s.err());
  assert.doesNotMatch(s.out(), raw);
  assert.equal(s.out(), file);
  // An error naming the version: too few labelled records.
  fs.writeFileSync(path.join(dir, 'outcomes.jsonl'), Array.from({ length: 30 }, (_, i) => JSON.stringify({ requestId: `r-${i * 2}`, label: i % 3 === 0 ? 1 : 0 })).join('\n'));
  const e = io();
  assert.equal(await runCalibrate(['--logs', dir], e.io), 2);
  assert.doesNotMatch(e.err(), raw);
  assert.match(e.err(), /v1\\u202egnp\.exe\\u0007/);
});
