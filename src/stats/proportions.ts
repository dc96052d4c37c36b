/** Intervals and tests on proportions (SPEC 8.7). */
import { normalTwoSided } from './distributions.js';

/** z for a 95% interval, as SPEC 8 fixes it. */
export const Z95 = 1.959963984540054;

/** Wilson score interval for `successes` out of `n`; null when n = 0. */
export function wilson(successes: number, n: number, z = Z95): [number, number] | null {
  if (n <= 0) return null;
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export interface DiffResult {
  /** p₁ − p₂; null when either group is empty. */
  diff: number | null;
  /** Wald (unpooled) interval of the difference. */
  ci: [number, number] | null;
  /** Two-sided pooled two-proportion z-test; null when its standard error is 0. */
  pValue: number | null;
}

/** Compares x₁/n₁ with x₂/n₂: the difference, its Wald interval and the pooled z-test. */
export function compareProportions(x1: number, n1: number, x2: number, n2: number, z = Z95): DiffResult {
  if (n1 <= 0 || n2 <= 0) return { diff: null, ci: null, pValue: null };
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const diff = p1 - p2;
  const seWald = Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2);
  const pooled = (x1 + x2) / (n1 + n2);
  const se0 = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return {
    diff,
    ci: [diff - z * seWald, diff + z * seWald],
    pValue: se0 > 0 ? normalTwoSided(diff / se0) : null,
  };
}
