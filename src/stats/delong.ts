/**
 * DeLong's paired test of two ROC AUCs on the same records (docs/report.md, "Which model ranks
 * better"): each AUC's structural components per positive and per negative, their covariance, and
 * a normal test of the difference (as R's pROC::roc.test).
 */
import { normalTwoSided } from './distributions.js';
import { Z95 } from './proportions.js';

export interface AucTest {
  diff: number | null;
  ci: [number, number] | null;
  pValue: number | null;
}

/**
 * From AUC_b − AUC_a and its variance: ci = diff ± z·se, two-sided normal p. The interval and p
 * are null when the variance is undefined; p also when it is 0.
 */
export function aucTestFrom(diff: number | null, variance: number | null, z = Z95): AucTest {
  if (diff === null) return { diff: null, ci: null, pValue: null };
  if (variance === null || !Number.isFinite(variance)) return { diff, ci: null, pValue: null };
  const se = Math.sqrt(Math.max(0, variance));
  return { diff, ci: [diff - z * se, diff + z * se], pValue: se > 0 ? normalTwoSided(diff / se) : null };
}

const psi = (x: number, y: number) => (x > y ? 1 : x === y ? 0.5 : 0);

function sampleCov(x: readonly number[], y: readonly number[]): number | null {
  const n = x.length;
  if (n < 2) return null;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let c = 0;
  for (let i = 0; i < n; i++) c += (x[i]! - mx) * (y[i]! - my);
  return c / (n - 1);
}

/**
 * AUC(b) − AUC(a) over records scored by both, with DeLong's variance; all null with one class.
 * Plain pairwise sums (O(positives × negatives)): for tests and small inputs.
 */
export function delongPaired(a: readonly number[], b: readonly number[], labels: readonly number[]): AucTest {
  const pos: number[] = [];
  const neg: number[] = [];
  labels.forEach((y, i) => (y === 1 ? pos : neg).push(i));
  const m = pos.length;
  const n = neg.length;
  if (m === 0 || n === 0) return { diff: null, ci: null, pValue: null };
  const v10 = (s: readonly number[]) => pos.map((i) => neg.reduce((t, j) => t + psi(s[i]!, s[j]!), 0) / n);
  const v01 = (s: readonly number[]) => neg.map((j) => pos.reduce((t, i) => t + psi(s[i]!, s[j]!), 0) / m);
  const a10 = v10(a);
  const b10 = v10(b);
  const a01 = v01(a);
  const b01 = v01(b);
  const aucA = a10.reduce((s, v) => s + v, 0) / m;
  const aucB = b10.reduce((s, v) => s + v, 0) / m;
  const parts = [sampleCov(a10, a10), sampleCov(b10, b10), sampleCov(a10, b10), sampleCov(a01, a01), sampleCov(b01, b01), sampleCov(a01, b01)];
  if (parts.some((p) => p === null)) return aucTestFrom(aucB - aucA, null);
  const [saa, sbb, sab, taa, tbb, tab] = parts as number[];
  return aucTestFrom(aucB - aucA, (saa! + sbb! - 2 * sab!) / m + (taa! + tbb! - 2 * tab!) / n);
}
