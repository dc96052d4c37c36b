/**
 * The clustered statistics against numpy/scipy, produced by
 * test/fixtures/report/make-clustered-stats.py (the command is in its header).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  aucTestFrom,
  clusterMoments,
  clusteredMcNemar,
  clusteredRatio,
  compareRatios,
  delongPaired,
  durkalski,
  logBayesFactor,
  sequentialPValue,
  Z95,
} from '../../src/stats/index.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/report/clustered-stats.json', import.meta.url), 'utf8'));

function close(actual: number | null | undefined, expected: number, tol: number, what: string): void {
  assert.ok(typeof actual === 'number', `${what}: got ${actual}, expected ${expected}`);
  const err = Math.abs(actual - expected) / Math.max(1, Math.abs(expected));
  assert.ok(err <= tol, `${what}: got ${actual}, expected ${expected} (rel err ${err})`);
}

test('cluster delta-method variance of a ratio matches numpy', () => {
  for (const c of fx.clustered) {
    const r = clusteredRatio(clusterMoments(c.s, c.n));
    close(r.ratio, c.ratio, 1e-12, `${c.name} ratio`);
    close(r.variance, c.variance, 1e-10, `${c.name} variance`);
    close(r.ci![0], c.ratio - Z95 * Math.sqrt(c.variance), 1e-10, `${c.name} lo`);
  }
  // One cluster: no variance; no records: no ratio.
  assert.deepEqual(clusteredRatio(clusterMoments([3], [5])), { ratio: 0.6, variance: null, ci: null });
  assert.deepEqual(clusteredRatio(clusterMoments([], [])), { ratio: null, variance: null, ci: null });
  assert.deepEqual(compareRatios(clusteredRatio(clusterMoments([1, 0], [1, 1])), clusteredRatio(clusterMoments([3], [5]))),
    { diff: 0.5 - 0.6, ci: null, pValue: null });
});

test('one request per customer: the delta-method variance is the sample variance of the labels over m', () => {
  const labels = [1, 0, 0, 1, 1, 0, 0, 0];
  const r = clusteredRatio(clusterMoments(labels, labels.map(() => 1)));
  const p = 3 / 8;
  close(r.variance, (p * (1 - p) * 8) / 7 / 8, 1e-14, 'variance');
  // Durkalski on single-record clusters is the uncorrected McNemar χ² = (c − b)² / (b + c).
  close(durkalski([1, 1, 1, -1, 0, 1]), clusteredMcNemar(3, 5)!, 1e-15, 'same');
});

test("Durkalski's clustered McNemar matches scipy", () => {
  for (const c of fx.durkalski) close(durkalski(c.d), c.pValue, 1e-11, `d=${c.d.length}`);
  assert.equal(durkalski([0, 0]), null);
  assert.equal(durkalski([]), null);
});

test("sequential p-value matches scipy's betaln", () => {
  for (const c of fx.sequential) close(sequentialPValue(c.steps), c.pValue, 1e-10, `steps=${c.steps.length}`);
  assert.equal(sequentialPValue([]), null);
  assert.equal(sequentialPValue([0, 0, 0]), 1);
  // BF after one discordant record is 2·B(1, 2) = 1.
  close(logBayesFactor(1, 0), 0, 1e-14, 'one record');
});

test("DeLong's paired AUC test matches an independent numpy implementation", () => {
  for (const c of fx.delong) {
    const r = delongPaired(c.champion, c.challenger, c.labels);
    close(r.diff, c.diff, 1e-12, `diff n=${c.labels.length}`);
    close(r.ci![0], c.ci[0], 1e-10, 'lo');
    close(r.ci![1], c.ci[1], 1e-10, 'hi');
    close(r.pValue, c.pValue, 1e-9, 'p');
  }
  assert.deepEqual(delongPaired([0.1, 0.2], [0.3, 0.4], [1, 1]), { diff: null, ci: null, pValue: null });
  // Identical models: no difference and no variance, so no p-value.
  assert.deepEqual(aucTestFrom(0, 0), { diff: 0, ci: [0, 0], pValue: null });
});
