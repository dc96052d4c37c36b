/** Classification metrics from a confusion matrix (docs/report.md, "labels": the block called M). */

export interface Confusion {
  /** Labelled records where the model has a score. */
  n: number;
  positives: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface ModelMetrics {
  n: number;
  positives: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  accuracy: number | null;
  auc: number | null;
  /** With `--value` only (docs/report.md, "value"). */
  value?: ValueMetrics;
}

/** Value (an amount per record) summed per confusion cell of a model's decision. */
export interface ValueMetrics {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  recall: number | null;
  precision: number | null;
}

/** V from the value per cell: recall and precision null when 0/0. */
export function valueMetrics(c: { tp: number; fp: number; fn: number; tn: number }): ValueMetrics {
  return { ...c, recall: ratio(c.tp, c.tp + c.fn), precision: ratio(c.tp, c.tp + c.fp) };
}

const ratio = (num: number, den: number): number | null => (den > 0 ? num / den : null);

/** M: each rate null when its denominator is 0; `auc` computed elsewhere (it needs the scores). */
export function metricsFromConfusion(c: Confusion, auc: number | null): ModelMetrics {
  return {
    n: c.n,
    positives: c.positives,
    precision: ratio(c.tp, c.tp + c.fp),
    recall: ratio(c.tp, c.tp + c.fn),
    f1: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn),
    accuracy: ratio(c.tp + c.tn, c.n),
    auc,
  };
}

/** Confusion matrix of predictions against 0/1 labels (for tests and small inputs). */
export function confusion(predictions: readonly boolean[], labels: readonly number[]): Confusion {
  const c: Confusion = { n: labels.length, positives: 0, tp: 0, fp: 0, fn: 0, tn: 0 };
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] === 1;
    if (y) c.positives++;
    if (predictions[i]) {
      if (y) c.tp++;
      else c.fp++;
    } else if (y) c.fn++;
    else c.tn++;
  }
  return c;
}
