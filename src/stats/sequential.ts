/**
 * The always-valid p-value of the paired comparison (docs/report.md, "Looking every day"): a
 * Bayes factor of "the discordant records split unevenly" (uniform prior on the split) against
 * "evenly", recomputed after each record; its running maximum gives a p-value that can be read
 * after every label without inflating false alarms.
 */
import { logGamma } from './distributions.js';

/** ln B(a, b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** ln BF = (b + c)·ln 2 + ln B(c + 1, b + 1); 0 when b + c = 0. */
export function logBayesFactor(b: number, c: number): number {
  return b + c === 0 ? 0 : (b + c) * Math.LN2 + logBeta(c + 1, b + 1);
}

/** p from the largest ln BF seen: min(1, 1 / max BF). */
export function sequentialPFromMaxLog(maxLogBf: number): number {
  return Math.min(1, Math.exp(-maxLogBf));
}

/**
 * Over records in order, each +1 (only the challenger right), −1 (only the champion right) or 0:
 * min(1, min over k of 1 / BF_k); null with no records.
 */
export function sequentialPValue(steps: readonly number[]): number | null {
  if (steps.length === 0) return null;
  let b = 0;
  let c = 0;
  let best = 0;
  for (const s of steps) {
    if (s > 0) c++;
    else if (s < 0) b++;
    best = Math.max(best, logBayesFactor(b, c));
  }
  return sequentialPFromMaxLog(best);
}
