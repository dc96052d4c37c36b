/**
 * Population stability index (SPEC 8.4): ten bins cut at the reference's deciles, each bin's share
 * floored at 1e-4 so an empty bin gives a large but finite term.
 */
import { quantiles } from './descriptive.js';

export const PSI_FLOOR = 1e-4;
export const PSI_EDGE_PS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] as const;

/** The nine bin edges: the reference's 10th … 90th percentiles (linear interpolation). */
export function psiEdges(reference: ArrayLike<number>): number[] {
  return quantiles(reference, PSI_EDGE_PS) as number[];
}

/** The bin of x: how many edges are strictly below it (0..9). */
export function psiBin(x: number, edges: readonly number[]): number {
  let b = 0;
  for (const e of edges) if (e < x) b++;
  return b;
}

/** PSI from per-bin counts of the reference and the actual sample; null if either is empty. */
export function psiFromCounts(reference: readonly number[], actual: readonly number[]): number | null {
  const nr = reference.reduce((s, v) => s + v, 0);
  const na = actual.reduce((s, v) => s + v, 0);
  if (nr === 0 || na === 0) return null;
  let psi = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max(reference[i]! / nr, PSI_FLOOR);
    const a = Math.max((actual[i] ?? 0) / na, PSI_FLOOR);
    psi += (a - r) * Math.log(a / r);
  }
  return psi;
}

/** PSI(reference, actual) over raw values. */
export function psi(reference: ArrayLike<number>, actual: ArrayLike<number>): number | null {
  if (reference.length === 0 || actual.length === 0) return null;
  const edges = psiEdges(reference);
  const rc = new Array<number>(10).fill(0);
  const ac = new Array<number>(10).fill(0);
  for (let i = 0; i < reference.length; i++) rc[psiBin(reference[i]!, edges)]!++;
  for (let i = 0; i < actual.length; i++) ac[psiBin(actual[i]!, edges)]!++;
  return psiFromCounts(rc, ac);
}
