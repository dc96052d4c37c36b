/**
 * ROC AUC with ties counting one half (SPEC 8.5), through the Mann–Whitney rank sum: with average
 * ranks, AUC = (R₊ − n₊(n₊+1)/2) / (n₊·n₋). This is exactly the share of (positive, negative) pairs
 * the scores order correctly, a tie counting ½ — the same number as sklearn's `roc_auc_score`.
 */
import { averageRanks } from './descriptive.js';

/** AUC from the sum of the positives' average ranks; null with one class. */
export function aucFromRankSum(rankSumPositives: number, positives: number, negatives: number): number | null {
  if (positives <= 0 || negatives <= 0) return null;
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** AUC of `scores` against 0/1 `labels`; null with one class or no data. */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const ranks = averageRanks(scores);
  let r = 0;
  let pos = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) {
      r += ranks[i]!;
      pos++;
    }
  }
  return aucFromRankSum(r, pos, labels.length - pos);
}
