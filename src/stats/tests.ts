/** Hypothesis tests on counts: McNemar (SPEC 8.6) and the sample-ratio-mismatch χ² (SPEC 8.8). */
import { binomCdfHalf, chi2Sf } from './distributions.js';

/** Below this many discordant pairs McNemar uses the exact binomial test (SPEC 8.6). */
export const MCNEMAR_EXACT_BELOW = 25;

export interface McNemarResult {
  pValue: number | null;
  method: 'exact' | 'chi2' | null;
  /** χ² with continuity correction (chi2 branch only). */
  statistic: number | null;
}

/**
 * McNemar's test on the discordant pairs: b = only the first correct, c = only the second.
 * b + c = 0 → no evidence either way (null); b + c < 25 → exact two-sided binomial;
 * otherwise χ² = (|b − c| − 1)² / (b + c), 1 degree of freedom.
 */
export function mcnemar(b: number, c: number): McNemarResult {
  const n = b + c;
  if (n === 0) return { pValue: null, method: null, statistic: null };
  if (n < MCNEMAR_EXACT_BELOW) {
    return { pValue: Math.min(1, 2 * binomCdfHalf(Math.min(b, c), n)), method: 'exact', statistic: null };
  }
  const stat = (Math.abs(b - c) - 1) ** 2 / n;
  return { pValue: chi2Sf(stat, 1), method: 'chi2', statistic: stat };
}

/** SRM is flagged below this p-value (SPEC 8.8): strict, because it is checked on every report. */
export const SRM_ALPHA = 0.001;

export interface SrmResult {
  chi2: number | null;
  pValue: number | null;
  flag: boolean | null;
}

/**
 * χ² goodness of fit of observed group counts against expected shares. A record in a group whose
 * expected share is 0 is an SRM by construction (chi2 null, pValue 0, flag true). Groups with a zero
 * share and no records are left out; with a single group left the split cannot be wrong (p = 1).
 */
export function srmTest(observed: readonly number[], expectedShares: readonly number[]): SrmResult {
  let total = 0;
  for (const o of observed) total += o;
  const kept: { o: number; e: number }[] = [];
  for (let i = 0; i < observed.length; i++) {
    const share = expectedShares[i]!;
    if (share <= 0) {
      if (observed[i]! > 0) return { chi2: null, pValue: 0, flag: true };
      continue;
    }
    kept.push({ o: observed[i]!, e: share });
  }
  if (total === 0 || kept.length === 0) return { chi2: null, pValue: null, flag: null };
  // Expected shares may not sum to exactly 1 (floating point); normalise over the kept groups.
  const shareSum = kept.reduce((s, k) => s + k.e, 0);
  let chi2 = 0;
  for (const { o, e } of kept) {
    const expected = (total * e) / shareSum;
    chi2 += (o - expected) ** 2 / expected;
  }
  const df = kept.length - 1;
  const pValue = df === 0 ? 1 : chi2Sf(chi2, df);
  return { chi2, pValue, flag: pValue < SRM_ALPHA };
}
