/**
 * Statistics over clusters (docs/report.md, "Customers, not requests"): one customer sends many
 * requests, so its records are not independent; variances and tests are taken over customers.
 */
import { chi2Sf, normalTwoSided } from './distributions.js';
import { Z95, type DiffResult } from './proportions.js';

/**
 * Moments of per-cluster sums s_u (of the outcome) and n_u (records) over m clusters: sample
 * variances and covariance with m − 1 in the denominator, null when m < 2.
 */
export interface ClusterMoments {
  m: number;
  sumS: number;
  sumN: number;
  varS: number | null;
  varN: number | null;
  covSN: number | null;
}

/** Moments from per-cluster (s, n) arrays (two passes: centred sums). */
export function clusterMoments(s: readonly number[], n: readonly number[]): ClusterMoments {
  const m = s.length;
  let sumS = 0;
  let sumN = 0;
  for (let i = 0; i < m; i++) {
    sumS += s[i]!;
    sumN += n[i]!;
  }
  if (m < 2) return { m, sumS, sumN, varS: null, varN: null, covSN: null };
  const ms = sumS / m;
  const mn = sumN / m;
  let vs = 0;
  let vn = 0;
  let c = 0;
  for (let i = 0; i < m; i++) {
    vs += (s[i]! - ms) ** 2;
    vn += (n[i]! - mn) ** 2;
    c += (s[i]! - ms) * (n[i]! - mn);
  }
  return { m, sumS, sumN, varS: vs / (m - 1), varN: vn / (m - 1), covSN: c / (m - 1) };
}

export interface RatioEstimate {
  /** R = Σ s / Σ n; null when Σ n = 0. */
  ratio: number | null;
  /** Delta-method variance of R; null when m < 2. */
  variance: number | null;
  ci: [number, number] | null;
}

/**
 * The ratio R = Σ s_u / Σ n_u and its cluster delta-method variance
 * [S(s) − 2R·C(s,n) + R²·S(n)] / (m·n̄²), n̄ = Σ n / m; ci = R ± z·√var.
 */
export function clusteredRatio(mo: ClusterMoments, z = Z95): RatioEstimate {
  if (mo.sumN <= 0) return { ratio: null, variance: null, ci: null };
  const r = mo.sumS / mo.sumN;
  if (mo.m < 2 || mo.varS === null || mo.varN === null || mo.covSN === null) return { ratio: r, variance: null, ci: null };
  const nBar = mo.sumN / mo.m;
  // The numerator is the sample variance of s_u − R·n_u: never negative but for rounding.
  const v = Math.max(0, mo.varS - 2 * r * mo.covSN + r * r * mo.varN) / (mo.m * nBar * nBar);
  const half = z * Math.sqrt(v);
  return { ratio: r, variance: v, ci: [r - half, r + half] };
}

/** a − b with ci = diff ± z·√(var_a + var_b) and the two-sided normal p (null when that is 0). */
export function compareRatios(a: RatioEstimate, b: RatioEstimate, z = Z95): DiffResult {
  if (a.ratio === null || b.ratio === null) return { diff: null, ci: null, pValue: null };
  const diff = a.ratio - b.ratio;
  if (a.variance === null || b.variance === null) return { diff, ci: null, pValue: null };
  const se = Math.sqrt(a.variance + b.variance);
  return { diff, ci: [diff - z * se, diff + z * se], pValue: se > 0 ? normalTwoSided(diff / se) : null };
}

/**
 * Durkalski's clustered McNemar from Σ d_u and Σ d_u² (d_u = c_u − b_u per cluster):
 * χ² = (Σ d_u)² / Σ d_u², 1 degree of freedom; null when Σ d_u² = 0.
 */
export function clusteredMcNemar(sumD: number, sumD2: number): number | null {
  if (!(sumD2 > 0)) return null;
  return chi2Sf((sumD * sumD) / sumD2, 1);
}

/** Σ d_u and Σ d_u² from per-cluster d_u. */
export function durkalski(d: readonly number[]): number | null {
  let s = 0;
  let s2 = 0;
  for (const x of d) {
    s += x;
    s2 += x * x;
  }
  return clusteredMcNemar(s, s2);
}
