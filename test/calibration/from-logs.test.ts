/**
 * calibrate computes its tables in the database (src/calibration/from-logs.ts); these tests hold it to
 * the in-memory reference, buildTable over every labelled row, to the last digit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import seedrandom from 'seedrandom';
import { calibrationFromLogs } from '../../src/calibration/from-logs.js';
import { buildCalibration, type CalibrationRow } from '../../src/calibration/table.js';
import { formatCalibration, runCalibrate } from '../../src/commands/calibrate.js';
import { labelledScores } from '../../src/commands/report.js';
import { tempDir } from '../helpers/proxy.js';

const outcome = (version: string, score: number) => ({ version, status: 200, latencyMs: 1, score, decision: score >= 0.5, error: null });

interface Spec {
  version: string;
  /** Records where this version answers as champion. */
  records: number;
  /** The challenger's version on those records (default: the next spec's). */
  challenger?: string;
  score: (rand: () => number) => number;
  /** Probability of a positive label given the champion's score. */
  positive: (score: number) => number;
}

/**
 * Seeded pair and outcome files: each spec's version is the champion of its records, the challenger is
 * the next spec's version unless it names one. Labels by request id, some by unit; a few records are left unlabelled and
 * a few labelled twice (the later label wins, as the report joins them), the last one right.
 */
function writeLogs(dir: string, specs: Spec[], seed: string): void {
  const rand = seedrandom(seed);
  const pairs: string[] = [];
  const outcomes: string[] = [];
  let i = 0;
  specs.forEach((spec, s) => {
    const other = specs.find((o) => o.version === spec.challenger) ?? specs[(s + 1) % specs.length]!;
    for (let j = 0; j < spec.records; j++, i++) {
      const a = spec.score(rand);
      const b = other.score(rand);
      const unit = `u-${i}`;
      pairs.push(JSON.stringify({ level: 30, time: 1_700_000_000_000 + i, msg: 'pair', requestId: `r-${i}`, unit, route: 'POST /p', config: 'c',
        assigned: 'key', bucket: 0.5, group: 'champion', served: 'champion', fallback: false,
        champion: outcome(spec.version, a), challenger: outcome(other.version, b), agree: null, fields: {} }));
      const label = rand() < spec.positive(a) ? 1 : 0;
      const r = rand();
      if (r < 0.05) continue;
      // A few labels are corrected by a later line, which wins.
      if (r > 0.97) outcomes.push(JSON.stringify({ msg: 'outcome', requestId: `r-${i}`, label: 1 - label }));
      if (r < 0.15) outcomes.push(JSON.stringify({ msg: 'outcome', unit, label }));
      else outcomes.push(JSON.stringify({ msg: 'outcome', requestId: `r-${i}`, label }));
    }
  });
  fs.writeFileSync(path.join(dir, 'pairs.jsonl'), pairs.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'outcomes.jsonl'), outcomes.join('\n') + '\n');
}

/** Every labelled row in memory, the reference's input. */
async function rowsOf(dir: string): Promise<Map<string, CalibrationRow[]>> {
  const rows = new Map<string, CalibrationRow[]>();
  for await (const r of labelledScores({ logs: dir })) {
    let list = rows.get(r.version);
    if (!list) rows.set(r.version, (list = []));
    list.push({ score: r.score, label: r.label });
  }
  return rows;
}

const SPECS: Spec[] = [
  // Continuous scores, duplicates by repetition of a few values.
  { version: 'fraud-v7', records: 1500, score: (r) => (r() < 0.2 ? 0.5 : r()), positive: (s) => s * 0.8 },
  // Heavy ties: 11 distinct scores.
  { version: 'fraud-v8', records: 1200, score: (r) => Math.round(r() * 10) / 10, positive: (s) => s },
  // Wide range, negative scores, many exact duplicates of the extremes.
  { version: 'risk-x', records: 800, score: (r) => { const u = r(); return u < 0.1 ? -1e6 : u > 0.9 ? 3.75e9 : (u - 0.5) * 1e3; }, positive: (s) => (s > 0 ? 0.7 : 0.2) },
  // Scores that do not add up exactly in binary: the interpolation's rounding is tested.
  { version: 'tiny', records: 700, score: (r) => 0.1 + Math.floor(r() * 1000) * 1e-7, positive: (s) => (s > 0.10005 ? 0.6 : 0.3) },
];

test('calibrate in the database: the same tables as buildTable over every labelled row, to the last digit, with ties and duplicates', async (t) => {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  writeLogs(dir, SPECS, 'calibrate-sql-1');
  const rows = await rowsOf(dir);
  assert.equal(rows.size, 4);
  assert.ok([...rows.values()].every((r) => r.length > 1000), 'every version has over a thousand labelled scores');
  const expected = buildCalibration(rows);
  const got = await calibrationFromLogs({ logs: dir });
  assert.deepEqual(got.versions.map((v) => [v.version, v.records, v.positives]),
    [...rows].sort(([a], [b]) => (a < b ? -1 : 1)).map(([v, r]) => [v, r.length, r.reduce((s, x) => s + x.label, 0)]));
  const tables = got.calibration();
  // Bit for bit: every score and value written with the 17 digits that read back as the same double.
  for (const [version, table] of Object.entries(expected.models)) {
    assert.equal(tables.models[version]!.length, table.length, version);
    table.forEach(([s, v], i) => {
      const [gs, gv] = tables.models[version]![i]!;
      assert.equal(gs.toExponential(16), s.toExponential(16), `${version}[${i}] score`);
      assert.equal(gv.toExponential(16), v.toExponential(16), `${version}[${i}] value`);
    });
  }
  assert.equal(formatCalibration(tables), formatCalibration(expected));
});

test('calibrate in the database: versions that cannot be calibrated fail with the reference\'s message', async (t) => {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  writeLogs(dir, [
    { ...SPECS[0]!, challenger: SPECS[0]!.version },
    { version: 'few', records: 20, challenger: 'few', score: (r) => r(), positive: () => 0.5 },
    { version: 'all-negative', records: 200, challenger: 'all-negative', score: (r) => r(), positive: () => 0 },
  ], 'calibrate-sql-2');
  const rows = await rowsOf(dir);
  assert.throws(() => buildCalibration(rows));
  let expected = '';
  try {
    buildCalibration(rows);
  } catch (err) {
    expected = (err as Error).message;
  }
  const got = await calibrationFromLogs({ logs: dir });
  assert.throws(() => got.calibration(), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'CCR_ERR_CALIBRATION');
    assert.equal(err.message, expected);
    return true;
  });
  assert.match(expected, /"few": \d+ labelled records with a score, at least 50 needed/);
  assert.match(expected, /"all-negative": all \d+ labelled records have label 0/);
});

test('calibrate --memory 256m: the bounded command writes the reference tables', async (t) => {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  writeLogs(dir, SPECS.map((s) => ({ ...s, records: s.records * 4 })), 'calibrate-sql-3');
  const expected = formatCalibration(buildCalibration(await rowsOf(dir)));
  let out = '';
  let err = '';
  const code = await runCalibrate(['--logs', dir, '--memory', '256m'], { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  assert.equal(code, 0, err);
  assert.equal(out, expected);
});
