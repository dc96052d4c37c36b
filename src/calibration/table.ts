/**
 * Score normalization tables (docs/calibration.md): per model version, a non-decreasing map from a
 * raw score to the precision among labelled records scoring at least that much, fitted by weighted
 * isotonic regression. Pure functions over arrays.
 */
import { CCR_ERR_CALIBRATION, CCR_ERR_USAGE } from '../errors.js';

export interface CalibrationRow {
  score: number;
  label: 0 | 1;
}

/** [raw score, metric value] points, scores strictly increasing, values non-decreasing. */
export type CalibrationTable = Array<[number, number]>;

export const CALIBRATION_METRICS = ['precision'] as const;
export type CalibrationMetric = (typeof CALIBRATION_METRICS)[number];

/** The calibration file's content. */
export interface Calibration {
  metric: CalibrationMetric;
  models: Record<string, CalibrationTable>;
}

/** Fewer labelled records than this make a table of noise: the version is refused. */
export const MIN_LABELLED_RECORDS = 50;

/**
 * The 0th, 1st, ..., 100th percentiles (linear interpolation between closest ranks, as the report's) of
 * ascending `sorted`, duplicates removed. The rank (n − 1)·k/100 is split in integer arithmetic:
 * a percentile that falls on a record is exactly that record's score, never one ulp above it,
 * which would drop the record's ties from "score >= t" (numpy's float rank can do that).
 */
export function percentilePoints(sorted: ArrayLike<number>): number[] {
  return percentilePointsAt(sorted.length, (i) => sorted[i]!);
}

/**
 * {@link percentilePoints} of `n` ascending scores read through `at`, which is asked only for the
 * positions ⌊(n − 1)·k/100⌋ and, where that split leaves a rest, the one after (so the scores need
 * not be in memory: `calibrate` fetches just those from the database).
 */
export function percentilePointsAt(n: number, at: (i: number) => number): number[] {
  const points: number[] = [];
  for (let k = 0; k <= 100; k++) {
    const rank = (n - 1) * k;
    const lo = Math.floor(rank / 100);
    const rest = rank - lo * 100;
    const x = rest === 0 ? at(lo) : at(lo) + (rest / 100) * (at(lo + 1) - at(lo));
    if (points.length === 0 || x !== points[points.length - 1]) points.push(x);
  }
  return points;
}

/**
 * The precision table of one version from its labelled records (`version` only names it in errors).
 * Throws CCR_ERR_CALIBRATION with fewer than MIN_LABELLED_RECORDS rows, with one class only, or
 * with a row whose score is not a finite number or whose label is not 0/1.
 */
export function buildTable(rows: ReadonlyArray<CalibrationRow>, version: string): CalibrationTable {
  const name = JSON.stringify(version);
  const n = rows.length;
  checkSize(n, version);
  let positives = 0;
  rows.forEach(({ score, label }, i) => {
    if (typeof score !== 'number' || !Number.isFinite(score)) throw new CCR_ERR_CALIBRATION(`version ${name}: row ${i}: score must be a finite number, got ${String(score)}`);
    if (label !== 0 && label !== 1) throw new CCR_ERR_CALIBRATION(`version ${name}: row ${i}: label must be 0 or 1, got ${String(label)}`);
    positives += label;
  });
  checkClasses(n, positives, version);

  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => rows[a]!.score - rows[b]!.score);
  const sorted = Float64Array.from(order, (i) => rows[i]!.score);
  // positivesFrom[i] = positives among the records at sorted positions i..n-1.
  const positivesFrom = new Float64Array(n + 1);
  for (let i = n - 1; i >= 0; i--) positivesFrom[i] = positivesFrom[i + 1]! + rows[order[i]!]!.label;

  return fitTable(percentilePoints(sorted), (t) => {
    const from = firstAtLeast(sorted, t);
    return { records: n - from, positives: positivesFrom[from]! };
  });
}

/** CCR_ERR_CALIBRATION when `n` labelled records are too few for a table. */
export function checkSize(n: number, version: string): void {
  if (n < MIN_LABELLED_RECORDS) {
    throw new CCR_ERR_CALIBRATION(`version ${JSON.stringify(version)}: ${n} labelled record${n === 1 ? '' : 's'} with a score, at least ${MIN_LABELLED_RECORDS} needed`);
  }
}

/** CCR_ERR_CALIBRATION when the `n` labelled records, `positives` of them positive, are all of one class. */
export function checkClasses(n: number, positives: number, version: string): void {
  if (positives === 0 || positives === n) {
    throw new CCR_ERR_CALIBRATION(`version ${JSON.stringify(version)}: all ${n} labelled records have label ${positives === 0 ? 0 : 1}, both classes are needed`);
  }
}

/** How many labelled records score at least a point, and how many of those are positive. */
export interface AtLeast {
  records: number;
  positives: number;
}

/** The table over `points`: the precision at or above each (`atLeast`), fitted isotonic with those record counts as weights. */
export function fitTable(points: readonly number[], atLeast: (t: number) => AtLeast): CalibrationTable {
  const raw = new Float64Array(points.length);
  const weights = new Float64Array(points.length);
  points.forEach((t, i) => {
    const { records, positives } = atLeast(t);
    weights[i] = records;
    raw[i] = positives / weights[i]!;
  });
  const fitted = isotonic(raw, weights);
  return points.map((t, i) => [t, fitted[i]!]);
}

/**
 * The weighted isotonic (non-decreasing) regression of `y` with weights `w` (pool adjacent
 * violators): adjacent values that decrease are replaced by their weighted mean until none does.
 * A thin top point (few records, noisy precision) is thus pooled with its neighbours in proportion
 * to how few records it stands for, instead of pulling every point below it down
 * (docs/calibration.md, "How the table is built").
 */
export function isotonic(y: ArrayLike<number>, w: ArrayLike<number>): Float64Array {
  const k = y.length;
  // Blocks of pooled points: their weighted mean, total weight and how many points they cover.
  const mean = new Float64Array(k);
  const weight = new Float64Array(k);
  const size = new Int32Array(k);
  let blocks = 0;
  for (let i = 0; i < k; i++) {
    mean[blocks] = y[i]!;
    weight[blocks] = w[i]!;
    size[blocks] = 1;
    blocks++;
    while (blocks > 1 && mean[blocks - 2]! > mean[blocks - 1]!) {
      const a = blocks - 2;
      const b = blocks - 1;
      const total = weight[a]! + weight[b]!;
      mean[a] = (mean[a]! * weight[a]! + mean[b]! * weight[b]!) / total;
      weight[a] = total;
      size[a] = size[a]! + size[b]!;
      blocks--;
    }
  }
  const out = new Float64Array(k);
  for (let b = 0, i = 0; b < blocks; b++) for (let j = 0; j < size[b]!; j++) out[i++] = mean[b]!;
  return out;
}

/** Index of the first element of ascending `xs` that is >= t (xs.length when none). */
function firstAtLeast(xs: Float64Array, t: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export type RowsByVersion = ReadonlyMap<string, ReadonlyArray<CalibrationRow>> | Readonly<Record<string, ReadonlyArray<CalibrationRow>>>;

/**
 * Tables for every version (keys sorted, so the file is the same for the same records). `metric`
 * other than `precision` throws CCR_ERR_USAGE naming `--metric`; versions that cannot be calibrated
 * throw one CCR_ERR_CALIBRATION naming each of them.
 */
export function buildCalibration(rowsByVersion: RowsByVersion, metric: string = 'precision'): Calibration {
  const entries = rowsByVersion instanceof Map ? [...rowsByVersion] : Object.entries(rowsByVersion);
  return calibrationOf(entries, metric, (rows, version) => buildTable(rows, version));
}

/**
 * {@link buildCalibration} over any per-version input: `tableOf` builds one version's table
 * (throwing CCR_ERR_CALIBRATION when it cannot), the checks, order and errors are the same.
 */
export function calibrationOf<T>(entries: Array<[string, T]>, metric: string, tableOf: (input: T, version: string) => CalibrationTable): Calibration {
  if (!(CALIBRATION_METRICS as readonly string[]).includes(metric)) {
    throw new CCR_ERR_USAGE(`--metric: ${JSON.stringify(metric)} is not supported (supported: ${CALIBRATION_METRICS.join(', ')})`);
  }
  if (entries.length === 0) throw new CCR_ERR_CALIBRATION('no labelled records with a score for any model version');
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const models: Record<string, CalibrationTable> = {};
  const problems: string[] = [];
  for (const [version, input] of entries) {
    try {
      // defineProperty: a version named "__proto__" must stay an ordinary key.
      Object.defineProperty(models, version, { value: tableOf(input, version), enumerable: true, writable: true, configurable: true });
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'CCR_ERR_CALIBRATION') throw err;
      problems.push((err as Error).message);
    }
  }
  if (problems.length > 0) throw new CCR_ERR_CALIBRATION(`cannot calibrate: ${problems.join('; ')}`);
  return { metric: metric as CalibrationMetric, models };
}
