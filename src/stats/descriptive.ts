/** Descriptive statistics over plain arrays (SPEC 8, definitions 1 and 3). */

/** Arithmetic mean; null for an empty array. */
export function mean(xs: ArrayLike<number>): number | null {
  if (xs.length === 0) return null;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

/**
 * Percentile by linear interpolation between closest ranks (numpy's default, DuckDB's
 * `quantile_cont`): h = (n − 1)·p, x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]) over the sorted values.
 * `p` in [0, 1]. null for an empty array.
 */
export function quantile(xs: ArrayLike<number>, p: number, sorted = false): number | null {
  const n = xs.length;
  if (n === 0) return null;
  const s = sorted ? xs : Float64Array.from(xs as ArrayLike<number>).sort();
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const t = h - lo;
  const a = s[lo]!;
  const b = s[hi]!;
  // numpy's lerp: from the nearer end, so the result is monotonic in p and matches numpy bit for bit.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/** Several percentiles at once (one sort). */
export function quantiles(xs: ArrayLike<number>, ps: readonly number[]): (number | null)[] {
  const s = Float64Array.from(xs as ArrayLike<number>).sort();
  return ps.map((p) => quantile(s, p, true));
}

/** Pearson correlation; null with fewer than two pairs or when either side is constant. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number | null {
  const n = Math.min(x.length, y.length);
  if (n < 2) return null;
  const mx = mean(x)!;
  const my = mean(y)!;
  // Two passes (centred sums) rather than the one-pass formula: no cancellation on scores near 1.
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r));
}

/** Ranks 1..n, tied values sharing the average of the ranks they span (scipy's `rankdata`). */
export function averageRanks(xs: ArrayLike<number>): Float64Array {
  const n = xs.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => xs[a]! - xs[b]!);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && xs[order[j + 1]!] === xs[order[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = avg;
    i = j + 1;
  }
  return ranks;
}

/** Spearman correlation = Pearson on average ranks (SPEC 8.3). */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number | null {
  return pearson(averageRanks(x), averageRanks(y));
}
