/**
 * The proxy side of calibration (docs/calibration.md, "Use them"): read a calibration file once,
 * then map a model version's raw score to the calibrated metric on every request (a binary search,
 * no allocation).
 */
import { CCR_ERR_CALIBRATION } from '../errors.js';
import { readTextFile } from '../util/read-text.js';
import { CALIBRATION_METRICS, type Calibration, type CalibrationMetric, type CalibrationTable } from './table.js';

/**
 * Read and validate a calibration file (synchronously, like the config: a reload needs it whole).
 * Throws CCR_ERR_CALIBRATION naming the file's absolute path and, for a bad table, the version.
 */
export function loadCalibration(file: string): Calibration {
  const { text, abs } = readTextFile(file, 'calibration', (message, cause) => new CCR_ERR_CALIBRATION(message, { cause }));
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CCR_ERR_CALIBRATION(`calibration ${abs}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  return validateCalibration(data, abs);
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Check calibration data (`source` names it in errors): `metric` a supported metric, `models` a
 * non-empty map of version → at least one [score, value] pair, scores finite and strictly
 * increasing, values in [0, 1] and non-decreasing. Other top-level keys are ignored. Returns a
 * deep-frozen copy.
 */
export function validateCalibration(data: unknown, source: string): Calibration {
  const fail = (where: string, message: string): never => {
    throw new CCR_ERR_CALIBRATION(`calibration ${source}: ${where}: ${message}`);
  };
  if (!isRecord(data)) return fail('top level', 'must be an object with "metric" and "models"');
  const metric = data['metric'];
  if (typeof metric !== 'string' || !(CALIBRATION_METRICS as readonly string[]).includes(metric)) {
    fail('metric', `must be one of ${CALIBRATION_METRICS.map((m) => JSON.stringify(m)).join(', ')}, got ${JSON.stringify(metric) ?? 'nothing'}`);
  }
  const models = data['models'];
  if (!isRecord(models)) return fail('models', 'must be an object mapping each model version to its table');
  const out: Record<string, CalibrationTable> = {};
  for (const [version, table] of Object.entries(models)) {
    Object.defineProperty(out, version, { value: validateTable(table, `models[${JSON.stringify(version)}]`, fail), enumerable: true });
  }
  if (Object.keys(out).length === 0) fail('models', 'has no model version');
  return Object.freeze({ metric: metric as CalibrationMetric, models: Object.freeze(out) });
}

function validateTable(table: unknown, where: string, fail: (where: string, message: string) => never): CalibrationTable {
  if (!Array.isArray(table) || table.length === 0) return fail(where, 'must be a non-empty array of [score, value] pairs');
  const out: CalibrationTable = [];
  table.forEach((point: unknown, i) => {
    const at = `${where}[${i}]`;
    if (!Array.isArray(point) || point.length !== 2 || !point.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      fail(at, `must be a [score, value] pair of finite numbers, got ${JSON.stringify(point)}`);
    }
    const [score, value] = point as [number, number];
    if (value < 0 || value > 1) fail(at, `value ${value} is outside [0, 1]`);
    const prev = out[i - 1];
    if (prev !== undefined && score <= prev[0]) fail(at, `score ${score} is not above the previous score ${prev[0]}: scores must increase`);
    if (prev !== undefined && value < prev[1]) fail(at, `value ${value} is below the previous value ${prev[1]}: the table must be non-decreasing`);
    out.push(Object.freeze([score, value]) as [number, number]);
  });
  return Object.freeze(out) as CalibrationTable;
}

/** A version's raw score → its calibrated value; null for a version the calibration does not know. */
export type Normalizer = (version: string, score: number) => number | null;

/**
 * A normalizer over a validated calibration (from `loadCalibration`, `validateCalibration` or
 * `buildCalibration`): linear interpolation between the table's points, clamped to the first and
 * last values outside them. A score that is not a finite number gives null.
 */
export function createNormalizer(calibration: Calibration): Normalizer {
  // Typed arrays per version, built once: the hot path only reads them.
  const tables = new Map<string, { xs: Float64Array; ys: Float64Array }>();
  for (const [version, table] of Object.entries(calibration.models)) {
    tables.set(version, { xs: Float64Array.from(table, (p) => p[0]), ys: Float64Array.from(table, (p) => p[1]) });
  }
  return (version, score) => {
    const t = tables.get(version);
    if (t === undefined || !Number.isFinite(score)) return null;
    const { xs, ys } = t;
    const last = xs.length - 1;
    if (score <= xs[0]!) return ys[0]!;
    if (score >= xs[last]!) return ys[last]!;
    // Invariant: xs[lo] <= score < xs[hi].
    let lo = 0;
    let hi = last;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (xs[mid]! <= score) lo = mid;
      else hi = mid;
    }
    return ys[lo]! + ((score - xs[lo]!) / (xs[hi]! - xs[lo]!)) * (ys[hi]! - ys[lo]!);
  };
}
