import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  buildCalibration, buildTable, isotonic, MIN_LABELLED_RECORDS, percentilePoints, type CalibrationRow, type CalibrationTable,
} from '../../src/calibration/table.js';

interface FixtureCase {
  name: string;
  version: string;
  rows: Array<[number, 0 | 1]>;
  table: CalibrationTable;
}

// Computed with scikit-learn 1.2.1 (IsotonicRegression) and numpy 1.24.2 by make-fixture.py, checked there
// against a written-out PAVA: /usr/bin/python3 test/fixtures/calibration/make-fixture.py > tables.json
// (pasted output; CI needs no python).
const fixture = JSON.parse(readFileSync(new URL('../fixtures/calibration/tables.json', import.meta.url), 'utf8')) as { cases: FixtureCase[] };
const rowsOf = (c: FixtureCase): CalibrationRow[] => c.rows.map(([score, label]) => ({ score, label }));

function assertTableClose(actual: CalibrationTable, expected: CalibrationTable, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: number of points`);
  actual.forEach(([s, v], i) => {
    const [es, ev] = expected[i]!;
    assert.ok(Math.abs(s - es) <= 1e-12 * Math.max(1, Math.abs(es)), `${what}[${i}] score ${s} != ${es}`);
    assert.ok(Math.abs(v - ev) <= 1e-12, `${what}[${i}] value ${v} != ${ev}`);
  });
}

for (const c of fixture.cases) {
  test(`scikit-learn reference: ${c.name} (${c.rows.length} records, ${c.table.length} points)`, () => {
    assertTableClose(buildTable(rowsOf(c), c.version), c.table, c.name);
  });
}

test('fixture sanity: the cases cover ties, pooling, a negative top record and the 50-record minimum', () => {
  const names = fixture.cases.map((c) => c.name);
  assert.ok(names.includes('ties-101') && names.includes('minimum-50') && names.includes('top-record-negative-537'));
  assert.ok(fixture.cases.some((c) => c.rows.length === MIN_LABELLED_RECORDS));
});

test('by hand: 25 records at 0.2 (5 positives) and 25 at 0.8 (20 positives)', () => {
  const rows: CalibrationRow[] = [];
  for (let i = 0; i < 25; i++) rows.push({ score: 0.2, label: i < 5 ? 1 : 0 }, { score: 0.8, label: i < 20 ? 1 : 0 });
  // Ranks 49·k/100: k ≤ 48 → 0.2; k = 49 → 0.2 + 0.01·0.6; 50 → 0.2 + 0.5·0.6; 51 → 0.2 + 0.99·0.6; k ≥ 52 → 0.8.
  // raw(0.2) = 25/50; every higher point keeps only the 0.8 records: 20/25.
  assertTableClose(buildTable(rows, 'v'), [[0.2, 0.5], [0.206, 0.8], [0.5, 0.8], [0.794, 0.8], [0.8, 0.8]], 'hand');
});

test('by hand: decreasing raw values are pooled into their weighted mean (weights: records at or above the point)', () => {
  // 101 records (every percentile lands on a record, so the points are the ten scores 0..9): ten per
  // score, eleven at 9. Positives per score, lowest first: 2 6 0 10 10 4 10 10 10 11.
  const counts = [10, 10, 10, 10, 10, 10, 10, 10, 10, 11];
  const positives = [2, 6, 0, 10, 10, 4, 10, 10, 10, 11];
  const rows: CalibrationRow[] = [];
  positives.forEach((p, s) => {
    for (let i = 0; i < counts[s]!; i++) rows.push({ score: s, label: i < p ? 1 : 0 });
  });
  const table = buildTable(rows, 'v');
  assert.deepEqual(table.map(([score]) => score), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // raw(s) = positives at scores >= s / records there: 73/101 71/91 65/81 65/71 55/61 45/51 1 1 1 1;
  // n(s) = 101 91 81 71 61 51 41 31 21 11. raw(3) > raw(4) > raw(5): the three pool into
  // (65 + 55 + 45) / (71 + 61 + 51) = 55/61. A running minimum would have given them 45/51 instead.
  const expected = [73 / 101, 71 / 91, 65 / 81, 55 / 61, 55 / 61, 55 / 61, 1, 1, 1, 1];
  table.forEach(([score, value], i) => assert.ok(Math.abs(value - expected[i]!) <= 1e-15, `at ${score}: ${value} != ${expected[i]}`));
});

test('isotonic: the pool-adjacent-violators fit on small vectors worked by hand', () => {
  const fit = (y: number[], w: number[]) => [...isotonic(y, w)];
  assert.deepEqual(fit([1, 2, 3], [1, 1, 1]), [1, 2, 3]);
  assert.deepEqual(fit([3, 1], [1, 3]), [1.5, 1.5]);
  // 0.5 (weight 1) then 0 (weight 1) pool to 0.25; then 0.2 < 0.25 pools all three: (0.5 + 0 + 0.4) / 4.
  assert.deepEqual(fit([0.5, 0, 0.2], [1, 1, 2]), [0.225, 0.225, 0.225]);
  assert.deepEqual(fit([], []), []);
  assert.deepEqual(fit([0.7], [5]), [0.7]);
});

test('top-record-negative: a lone negative at the top score is pooled, not a table of zeros', () => {
  const c = fixture.cases.find((x) => x.name === 'top-record-negative-537')!;
  const table = buildTable(rowsOf(c), c.version);
  const rows = rowsOf(c);
  const rate = rows.filter((r) => r.label === 1).length / rows.length;
  // The lowest point holds every record: its value is close to the overall positive rate, the top
  // end well above it, and nothing is 0.
  assert.ok(table.every(([, v]) => v > 0.3), `values ${table.map(([, v]) => v)}`);
  assert.ok(Math.abs(table[0]![1] - rate) < 0.05);
  assert.ok(table.at(-1)![1] > 0.85);
  for (let i = 1; i < table.length; i++) assert.ok(table[i]![1] >= table[i - 1]![1], 'values never decrease');
});

test('percentiles that fall on a record are its score exactly (no ulp above, which would drop its ties)', () => {
  // n = 101: every percentile rank is an integer. 0.07·100 is 7.000000000000001 in floating point.
  const sorted = Array.from({ length: 101 }, (_, i) => Math.round(i / 4) / 100);
  const points = percentilePoints(sorted);
  assert.deepEqual(points, [...new Set(sorted)]);
});

test('the order of the rows does not matter, and the rows are not changed', () => {
  const c = fixture.cases.find((x) => x.name === 'ties-101')!;
  const rows = rowsOf(c);
  const reversed = rows.slice().reverse();
  const before = JSON.stringify(reversed);
  assert.deepEqual(buildTable(reversed, c.version), buildTable(rows, c.version));
  assert.equal(JSON.stringify(reversed), before);
});

test('fewer than 50 labelled records: CCR_ERR_CALIBRATION naming the version and the count', () => {
  const rows = rowsOf(fixture.cases[0]!).slice(0, 49);
  assert.throws(() => buildTable(rows, 'fraud-v8'), {
    code: 'CCR_ERR_CALIBRATION',
    message: 'version "fraud-v8": 49 labelled records with a score, at least 50 needed',
  });
  assert.throws(() => buildTable([], 'fraud-v8'), { message: 'version "fraud-v8": 0 labelled records with a score, at least 50 needed' });
});

test('only one class: CCR_ERR_CALIBRATION naming the version and the class', () => {
  const all = (label: 0 | 1): CalibrationRow[] => Array.from({ length: 60 }, (_, i) => ({ score: i / 60, label }));
  assert.throws(() => buildTable(all(0), 'fraud-v7'), { code: 'CCR_ERR_CALIBRATION', message: 'version "fraud-v7": all 60 labelled records have label 0, both classes are needed' });
  assert.throws(() => buildTable(all(1), 'fraud-v7'), { code: 'CCR_ERR_CALIBRATION', message: 'version "fraud-v7": all 60 labelled records have label 1, both classes are needed' });
});

test('a score that is not a finite number, or a label that is not 0/1, is named by its row', () => {
  const rows = rowsOf(fixture.cases[0]!);
  rows[7] = { score: Number.NaN, label: 1 };
  assert.throws(() => buildTable(rows, 'v'), { code: 'CCR_ERR_CALIBRATION', message: 'version "v": row 7: score must be a finite number, got NaN' });
  rows[7] = { score: 0.5, label: 2 as 1 };
  assert.throws(() => buildTable(rows, 'v'), { message: 'version "v": row 7: label must be 0 or 1, got 2' });
});

test('buildCalibration: every version, keys sorted, from a Map or a plain object', () => {
  const [a, b] = fixture.cases;
  const fromObject = buildCalibration({ [b!.version]: rowsOf(b!), [a!.version]: rowsOf(a!) });
  assert.equal(fromObject.metric, 'precision');
  assert.deepEqual(Object.keys(fromObject.models), [a!.version, b!.version].sort());
  assert.deepEqual(fromObject.models[a!.version], buildTable(rowsOf(a!), a!.version));
  const fromMap = buildCalibration(new Map([[b!.version, rowsOf(b!)], [a!.version, rowsOf(a!)]]), 'precision');
  assert.deepEqual(JSON.stringify(fromMap), JSON.stringify(fromObject));
});

test('buildCalibration: every version that cannot be calibrated is named in one error', () => {
  const good = rowsOf(fixture.cases[0]!);
  const few = good.slice(0, 10);
  const oneClass = good.map((r) => ({ ...r, label: 1 as const }));
  assert.throws(() => buildCalibration({ ok: good, 'v-few': few, 'v-one': oneClass }), {
    code: 'CCR_ERR_CALIBRATION',
    message: 'cannot calibrate: version "v-few": 10 labelled records with a score, at least 50 needed; version "v-one": all 101 labelled records have label 1, both classes are needed',
  });
  assert.throws(() => buildCalibration({}), { code: 'CCR_ERR_CALIBRATION', message: /no labelled records/ });
});

test('buildCalibration: a metric other than precision is a usage error naming --metric', () => {
  assert.throws(() => buildCalibration({ v: rowsOf(fixture.cases[0]!) }, 'recall'), {
    code: 'CCR_ERR_USAGE',
    message: '--metric: "recall" is not supported (supported: precision)',
  });
});
