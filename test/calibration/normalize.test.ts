import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createNormalizer, loadCalibration, validateCalibration } from '../../src/calibration/normalize.js';
import { buildCalibration, type Calibration, type CalibrationTable } from '../../src/calibration/table.js';

const calibration = (models: Record<string, CalibrationTable>): Calibration => ({ metric: 'precision', models });

test('linear interpolation between points', () => {
  const normalize = createNormalizer(calibration({ v: [[0.2, 0.1], [0.4, 0.3], [0.8, 0.9]] }));
  assert.ok(Math.abs(normalize('v', 0.3)! - 0.2) < 1e-15);
  assert.ok(Math.abs(normalize('v', 0.6)! - 0.6) < 1e-15);
  assert.ok(Math.abs(normalize('v', 0.5)! - 0.45) < 1e-15);
  // exactly on a point: that point's value
  assert.equal(normalize('v', 0.2), 0.1);
  assert.equal(normalize('v', 0.4), 0.3);
  assert.equal(normalize('v', 0.8), 0.9);
});

test('clamped at the ends', () => {
  const normalize = createNormalizer(calibration({ v: [[0.2, 0.1], [0.8, 0.9]] }));
  assert.equal(normalize('v', 0), 0.1);
  assert.equal(normalize('v', -1e300), 0.1);
  assert.equal(normalize('v', 0.99), 0.9);
  assert.equal(normalize('v', 1e300), 0.9);
});

test('a one-point table is a constant; flat stretches stay flat', () => {
  const normalize = createNormalizer(calibration({ one: [[0.5, 0.7]], flat: [[0, 0.2], [0.5, 0.2], [1, 0.6]] }));
  for (const s of [0, 0.5, 1]) assert.equal(normalize('one', s), 0.7);
  assert.equal(normalize('flat', 0.25), 0.2);
  assert.ok(Math.abs(normalize('flat', 0.75)! - 0.4) < 1e-15);
});

test('an unknown version, or a score that is not a finite number, gives null', () => {
  const normalize = createNormalizer(calibration({ 'fraud-v7': [[0, 0], [1, 1]] }));
  assert.equal(normalize('fraud-v9', 0.5), null);
  assert.equal(normalize('constructor', 0.5), null);
  assert.equal(normalize('__proto__', 0.5), null);
  assert.equal(normalize('fraud-v7', Number.NaN), null);
  assert.equal(normalize('fraud-v7', Number.POSITIVE_INFINITY), null);
});

test('the binary search agrees with a linear scan on every segment of a real table', () => {
  const fx = JSON.parse(readFileSync(new URL('../fixtures/calibration/tables.json', import.meta.url), 'utf8')) as { cases: Array<{ version: string; table: CalibrationTable }> };
  const models = Object.fromEntries(fx.cases.map((c) => [c.version, c.table]));
  const normalize = createNormalizer(calibration(models));
  for (const [version, table] of Object.entries(models)) {
    const lo = table[0]![0];
    const hi = table.at(-1)![0];
    for (let i = 0; i <= 1000; i++) {
      const s = lo - 0.1 + ((hi - lo + 0.2) * i) / 1000;
      assert.equal(normalize(version, s), linearScan(table, s), `${version} at ${s}`);
    }
  }
});

function linearScan(table: CalibrationTable, s: number): number {
  if (s <= table[0]![0]) return table[0]![1];
  for (let i = 1; i < table.length; i++) {
    const [x1, y1] = table[i]!;
    if (s < x1) {
      const [x0, y0] = table[i - 1]!;
      return y0 + ((s - x0) / (x1 - x0)) * (y1 - y0);
    }
  }
  return table.at(-1)![1];
}

// --- loadCalibration --------------------------------------------------------------------------

function tempFile(t: TestContext, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ccrouter-calibration-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'calibration.json');
  writeFileSync(file, text);
  return file;
}

test('a file written from buildCalibration loads back as the same tables', (t) => {
  const rows = Array.from({ length: 200 }, (_, i) => ({ score: (i * 7919) % 200 / 200, label: (i % 3 === 0 ? 1 : 0) as 0 | 1 }));
  const built = buildCalibration({ 'fraud-v7': rows, 'fraud-v8': rows.map((r) => ({ ...r, score: r.score / 2 })) });
  const file = tempFile(t, JSON.stringify(built));
  const loaded = loadCalibration(file);
  assert.deepEqual(loaded, built);
  assert.ok(Object.isFrozen(loaded) && Object.isFrozen(loaded.models) && Object.isFrozen(loaded.models['fraud-v7']));
});

test('a decreasing table is rejected, naming the file, the version and the point', (t) => {
  const file = tempFile(t, JSON.stringify(calibration({ 'fraud-v7': [[0.1, 0.1], [0.5, 0.5]], 'fraud-v8': [[0.1, 0.2], [0.3, 0.4], [0.6, 0.35]] })));
  assert.throws(() => loadCalibration(file), {
    code: 'CCR_ERR_CALIBRATION',
    message: `calibration ${file}: models["fraud-v8"][2]: value 0.35 is below the previous value 0.4: the table must be non-decreasing`,
  });
});

test('scores that do not increase are rejected, naming the version', (t) => {
  const file = tempFile(t, JSON.stringify(calibration({ 'fraud-v8': [[0.1, 0.2], [0.1, 0.3]] })));
  assert.throws(() => loadCalibration(file), {
    message: `calibration ${file}: models["fraud-v8"][1]: score 0.1 is not above the previous score 0.1: scores must increase`,
  });
});

test('every other shape problem names the file and where it is', (t) => {
  const cases: Array<[unknown, string]> = [
    [[], 'top level: must be an object with "metric" and "models"'],
    [{ models: { v: [[0, 0]] } }, 'metric: must be one of "precision", got nothing'],
    [{ metric: 'recall', models: { v: [[0, 0]] } }, 'metric: must be one of "precision", got "recall"'],
    [{ metric: 'precision' }, 'models: must be an object mapping each model version to its table'],
    [{ metric: 'precision', models: {} }, 'models: has no model version'],
    [{ metric: 'precision', models: { v: [] } }, 'models["v"]: must be a non-empty array of [score, value] pairs'],
    [{ metric: 'precision', models: { v: [[0, 0.1], [0.5]] } }, 'models["v"][1]: must be a [score, value] pair of finite numbers, got [0.5]'],
    [{ metric: 'precision', models: { v: [[0, '0.1']] } }, 'models["v"][0]: must be a [score, value] pair of finite numbers, got [0,"0.1"]'],
    [{ metric: 'precision', models: { v: [[0, 1.5]] } }, 'models["v"][0]: value 1.5 is outside [0, 1]'],
  ];
  for (const [data, message] of cases) {
    assert.throws(() => validateCalibration(data, 'cal.json'), { code: 'CCR_ERR_CALIBRATION', message: `calibration cal.json: ${message}` });
  }
  const notJson = tempFile(t, '{"metric": ');
  assert.throws(() => loadCalibration(notJson), { code: 'CCR_ERR_CALIBRATION', message: new RegExp(`^calibration ${notJson}: not valid JSON`) });
  const missing = join(tmpdir(), 'ccrouter-no-such-calibration.json');
  assert.throws(() => loadCalibration(missing), { code: 'CCR_ERR_CALIBRATION', message: `cannot read calibration ${missing}: no such file` });
});

test('unknown top-level keys are ignored; a version named "__proto__" is an ordinary version', () => {
  const data = JSON.parse('{"metric":"precision","generatedAt":1,"models":{"__proto__":[[0,0.25],[1,0.75]]}}') as unknown;
  const cal = validateCalibration(data, 'cal.json');
  assert.deepEqual(Object.keys(cal), ['metric', 'models']);
  assert.equal(createNormalizer(cal)('__proto__', 0.5), 0.5);
});
