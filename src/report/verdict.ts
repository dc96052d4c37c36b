/**
 * The verdict (docs/report.md, "verdict"): one paired test on labelled records, chosen by
 * `--verdict` (accuracy, auc or matched) and `--sequential`.
 */
import type { Labels, Verdict, VerdictMetric } from './types.js';

/** Fewer paired labelled records than this and the report does not conclude. */
export const MIN_PAIRED = 100;
export const VERDICT_ALPHA = 0.05;

export interface VerdictOptions {
  metric?: VerdictMetric;
  sequential?: boolean;
  /** Some cluster holds more than one paired record: accuracy then uses the clustered test. */
  clustered?: boolean;
  /** b and c of the matched predictions (labels.matched). */
  matched?: { championOnlyCorrect: number; challengerOnlyCorrect: number };
}

/** The p-value and direction (positive: the challenger) the verdict rests on. */
export function verdictBasis(labels: Pick<Labels, 'paired'> & Partial<Pick<Labels, 'aucTest' | 'matched'>>, opts: VerdictOptions = {}):
  { p: number | null; direction: number; test: string } {
  const paired = labels.paired;
  const accuracy = paired.challengerOnlyCorrect - paired.championOnlyCorrect;
  switch (opts.metric ?? 'accuracy') {
    case 'auc':
      return { p: labels.aucTest?.pValue ?? null, direction: labels.aucTest?.diff ?? 0, test: 'DeLong AUC' };
    case 'matched':
      return {
        p: labels.matched?.pValue ?? null,
        direction: opts.matched ? opts.matched.challengerOnlyCorrect - opts.matched.championOnlyCorrect : 0,
        test: 'McNemar at the matched decision rate',
      };
    default:
      if (opts.sequential) return { p: paired.sequentialPValue ?? null, direction: accuracy, test: 'sequential' };
      if (opts.clustered) return { p: paired.clusteredPValue ?? null, direction: accuracy, test: 'clustered McNemar' };
      return { p: paired.pValue, direction: accuracy, test: 'McNemar' };
  }
}

export function verdictOf(labels: Pick<Labels, 'paired'> & Partial<Pick<Labels, 'aucTest' | 'matched'>>, opts: VerdictOptions = {}): Verdict {
  if (labels.paired.n < MIN_PAIRED) return 'insufficient_data';
  const { p, direction } = verdictBasis(labels, opts);
  if (p !== null && p < VERDICT_ALPHA) {
    if (direction > 0) return 'challenger_better';
    if (direction < 0) return 'champion_better';
  }
  return 'no_significant_difference';
}
