/** The verdict (docs/report.md, "verdict"): the paired McNemar test on labelled records, nothing else. */
import type { Verdict } from './types.js';

/** Fewer paired labelled records than this and the report does not conclude. */
export const MIN_PAIRED = 100;
export const VERDICT_ALPHA = 0.05;

export function verdictOf(paired: { n: number; championOnlyCorrect: number; challengerOnlyCorrect: number; pValue: number | null }): Verdict {
  if (paired.n < MIN_PAIRED) return 'insufficient_data';
  if (paired.pValue !== null && paired.pValue < VERDICT_ALPHA) {
    if (paired.challengerOnlyCorrect > paired.championOnlyCorrect) return 'challenger_better';
    if (paired.championOnlyCorrect > paired.challengerOnlyCorrect) return 'champion_better';
  }
  return 'no_significant_difference';
}
