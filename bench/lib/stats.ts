/** Small statistics for the harness: percentiles (linear interpolation, numpy's default) and medians. */

/** Percentile q in [0,1] of sorted values, interpolating linearly between closest ranks. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  return quantileSorted(sorted, q);
}

/** Median of the finite values; NaN when there is none. */
export function median(values: ReadonlyArray<number | null | undefined>): number {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length === 0 ? NaN : quantile(v, 0.5);
}

export function min(values: ReadonlyArray<number>): number {
  return values.length === 0 ? NaN : Math.min(...values);
}

export function max(values: ReadonlyArray<number>): number {
  return values.length === 0 ? NaN : Math.max(...values);
}
