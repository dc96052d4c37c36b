/**
 * The statistics against reference values from numpy / scipy / scikit-learn / statsmodels,
 * produced by test/fixtures/report/make-fixtures.py (the command is in its header).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  auc,
  aucFromRankSum,
  averageRanks,
  binomCdfHalf,
  chi2Sf,
  compareProportions,
  confusion,
  logGamma,
  mcnemar,
  metricsFromConfusion,
  normalTwoSided,
  pearson,
  psi,
  psiBin,
  psiEdges,
  psiFromCounts,
  quantile,
  quantiles,
  spearman,
  srmTest,
  wilson,
} from '../../src/stats/index.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/report/stats.json', import.meta.url), 'utf8'));

/** |actual − expected| within a relative (or, near 0, absolute) tolerance. */
function close(actual: number | null, expected: number, tol = 1e-12, what = ''): void {
  assert.ok(actual !== null, `${what}: got null, expected ${expected}`);
  const err = Math.abs(actual - expected) / Math.max(1, Math.abs(expected));
  assert.ok(err <= tol, `${what}: got ${actual}, expected ${expected} (rel err ${err})`);
}

test('percentiles interpolate linearly between closest ranks (numpy default)', () => {
  for (const c of fx.percentiles) {
    const got = quantiles(c.x, c.p);
    c.expected.forEach((e: number, i: number) => close(got[i]!, e, 1e-12, `x=${c.x.length} p=${c.p[i]}`));
    c.expected.forEach((e: number, i: number) => close(quantile(c.x, c.p[i]), e, 1e-12));
  }
  assert.equal(quantile([], 0.5), null);
});

test('Pearson and Spearman (average ranks for ties) match scipy', () => {
  for (const c of fx.correlation) {
    close(pearson(c.x, c.y), c.pearson, 1e-12, 'pearson');
    close(spearman(c.x, c.y), c.spearman, 1e-12, 'spearman');
    assert.deepEqual(Array.from(averageRanks(c.x)), c.ranksX);
  }
});

test('correlation is null with fewer than two pairs or a constant side', () => {
  assert.equal(pearson([1], [2]), null);
  assert.equal(pearson([1, 1, 1], [1, 2, 3]), null);
  assert.equal(spearman([2, 2], [1, 3]), null);
});

test('ROC AUC counts ties one half (sklearn roc_auc_score)', () => {
  for (const c of fx.auc) close(auc(c.scores, c.labels), c.expected, 1e-12, `auc n=${c.scores.length}`);
  assert.equal(auc([0.1, 0.2], [1, 1]), null);
  assert.equal(aucFromRankSum(3, 0, 2), null);
});

test('Wilson 95% interval matches statsmodels', () => {
  for (const c of fx.wilson) {
    const ci = wilson(c.x, c.n)!;
    close(ci[0], c.expected[0], 1e-12, `wilson ${c.x}/${c.n} lo`);
    close(ci[1], c.expected[1], 1e-12, `wilson ${c.x}/${c.n} hi`);
  }
  assert.equal(wilson(0, 0), null);
});

test('McNemar: exact binomial below 25 discordant pairs, corrected chi-square above', () => {
  for (const c of fx.mcnemar) {
    const r = mcnemar(c.b, c.c);
    assert.equal(r.method, c.method, `b=${c.b} c=${c.c}`);
    close(r.pValue, c.pValue, 1e-10, `mcnemar b=${c.b} c=${c.c}`);
  }
  assert.deepEqual(mcnemar(0, 0), { pValue: null, method: null, statistic: null });
  // The boundary: 24 discordant pairs is exact, 25 is chi-square.
  assert.equal(mcnemar(12, 12).method, 'exact');
  assert.equal(mcnemar(12, 13).method, 'chi2');
});

test('two proportions: Wald CI of the difference and pooled z-test match statsmodels', () => {
  for (const c of fx.twoProportions) {
    const r = compareProportions(c.x1, c.n1, c.x2, c.n2);
    close(r.diff, c.diff, 1e-12, 'diff');
    close(r.ci![0], c.ci[0], 1e-12, 'ci lo');
    close(r.ci![1], c.ci[1], 1e-12, 'ci hi');
    close(r.pValue, c.pValue, 1e-10, 'pValue');
  }
  assert.deepEqual(compareProportions(0, 10, 0, 12), { diff: 0, ci: [0, 0], pValue: null });
  assert.deepEqual(compareProportions(1, 0, 0, 12), { diff: null, ci: null, pValue: null });
});

test('PSI with reference deciles, strict-below bins and the 1e-4 floor (numpy)', () => {
  for (const c of fx.psi) close(psi(c.reference, c.actual), c.expected, 1e-12, `psi ${c.name}`);
  assert.equal(psi([], [1]), null);
  // The bin of a value equal to an edge is below that edge.
  const edges = psiEdges([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.equal(psiBin(edges[0]!, edges), 0);
  assert.equal(psiBin(edges[0]! + 1e-9, edges), 1);
  assert.equal(psiFromCounts([1, 0], [0, 1])! > 0, true);
});

test('SRM chi-square goodness of fit matches scipy, zero-share groups handled', () => {
  for (const c of fx.srm) {
    const r = srmTest(c.observed, c.shares);
    close(r.chi2, c.chi2, 1e-12, 'chi2');
    close(r.pValue, c.pValue, 1e-10, 'pValue');
    assert.equal(r.flag, c.pValue < 0.001);
  }
  // A record in a group expected to be empty: an SRM by construction.
  assert.deepEqual(srmTest([1, 99, 0], [0, 0.9, 0.1]), { chi2: null, pValue: 0, flag: true });
  // One group left: nothing can be mismatched.
  assert.deepEqual(srmTest([0, 10, 0], [0, 1, 0]), { chi2: 0, pValue: 1, flag: false });
});

test('distribution functions match scipy', () => {
  for (const c of fx.chi2Sf) close(chi2Sf(c.x, c.df), c.expected, 1e-11, `chi2Sf(${c.x}, ${c.df})`);
  for (const c of fx.normalTwoSided) close(normalTwoSided(c.z), c.expected, 1e-11, `normal(${c.z})`);
  for (const c of fx.logGamma) close(logGamma(c.x), c.expected, 1e-13, `lgamma(${c.x})`);
  for (const c of fx.binomCdfHalf) close(binomCdfHalf(c.k, c.n), c.expected, 1e-14, `binom(${c.k}, ${c.n})`);
  // Tiny tails stay positive and finite (χ² = 400 on 1 df ≈ 6e-89).
  const p = chi2Sf(400, 1);
  assert.ok(p > 0 && p < 1e-80);
});

test('classification metrics: nulls for zero denominators', () => {
  const c = confusion([true, false, true, false], [1, 1, 0, 0]);
  assert.deepEqual(c, { n: 4, positives: 2, tp: 1, fp: 1, fn: 1, tn: 1 });
  assert.deepEqual(metricsFromConfusion(c, 0.5), { n: 4, positives: 2, precision: 0.5, recall: 0.5, f1: 0.5, accuracy: 0.5, auc: 0.5 });
  const none = metricsFromConfusion(confusion([false, false], [0, 0]), null);
  assert.equal(none.precision, null);
  assert.equal(none.recall, null);
  assert.equal(none.f1, null);
  assert.equal(none.accuracy, 1);
});
