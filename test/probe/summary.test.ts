import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfigObject } from '../../src/config/load.js';
import { deriveVariants } from '../../src/probe/perturb.js';
import { failuresOf, isFailure, summarize, tallyModel, type CallOutcome } from '../../src/probe/summary.js';

const score = (s: number): CallOutcome => ({ type: 'score', score: s });

test('jitter delta: mean |jittered − original| per sample, over the variants where both were scored', () => {
  // Two samples; sample 0 has two numeric fields (4 jitter variants), sample 1 one (2 jitter variants).
  const variants = deriveVariants([{ a: 10, b: 4 }, { a: 20 }]);
  const outcomes = variants.map((v): CallOutcome => {
    if (v.kind === 'original') return score(v.sample === 0 ? 0.5 : 0.2);
    if (v.kind !== 'jitter') return score(0.9);
    // sample 0: +0.01, −0.03, +0.02, no score; sample 1: +0.1, −0.2
    const deltas = v.sample === 0 ? [0.01, -0.03, 0.02, null] : [0.1, -0.2];
    const nth = variants.filter((w) => w.kind === 'jitter' && w.sample === v.sample).indexOf(v);
    const d = deltas[nth];
    return d === null || d === undefined ? { type: 'noScore', message: 'no value at /score' } : score((v.sample === 0 ? 0.5 : 0.2) + d);
  });
  const t = tallyModel(variants, outcomes);
  assert.equal(t.jitter.calls, 6);
  assert.equal(t.jitter.noScore, 1);
  assert.ok(Math.abs(t.jitter.meanAbsScoreDelta! - (0.01 + 0.03 + 0.02 + 0.1 + 0.2) / 5) < 1e-12);
  assert.equal(t.original.meanAbsScoreDelta, null);
  assert.equal(t.null.meanAbsScoreDelta, null);
});

test('jitter delta is null when the original was never scored', () => {
  const variants = deriveVariants([{ a: 1 }]);
  const outcomes = variants.map((v): CallOutcome => (v.kind === 'original' ? { type: 'status5xx', message: 'status 500' } : score(0.3)));
  assert.equal(tallyModel(variants, outcomes).jitter.meanAbsScoreDelta, null);
});

test('challengerWorse: kinds where the challenger fails and the champion never does; 4xx is not a failure', () => {
  const { config, id } = loadConfigObject({
    models: { champion: { url: 'http://127.0.0.1:1', version: 'a' }, challenger: { url: 'http://127.0.0.1:2', version: 'b' } },
    routes: [{ path: '/predict', score: '/score' }],
  });
  const variants = deriveVariants([{ n: 1, s: 'x' }]);
  const champion = variants.map((v): CallOutcome => {
    if (v.kind === 'malformed_json') return { type: 'status4xx', message: 'status 400' };
    if (v.kind === 'long_string') return { type: 'status5xx', message: 'status 500' };
    return score(0.5);
  });
  const challenger = variants.map((v): CallOutcome => {
    if (v.kind === 'malformed_json') return { type: 'status4xx', message: 'status 400' };
    if (v.kind === 'long_string') return { type: 'connectionError', message: 'connect: reset' };
    if (v.kind === 'null' && v.field === '/s') return { type: 'noScore', message: 'no value at /score' };
    if (v.kind === 'empty_object') return { type: 'connectionError', message: 'timeout: no complete answer within 1000 ms' };
    return score(0.5);
  });
  const r = summarize({ loaded: { config, id }, samples: 1, variants, outcomes: { champion, challenger } });
  assert.deepEqual(r.challengerWorse, [{ kind: 'null', fields: ['/s'] }, { kind: 'empty_object', fields: [] }]);
  assert.equal(failuresOf(r.results.challenger.malformed_json, 'malformed_json'), 0, 'a 4xx to a perturbed body is no failure');
  assert.equal(r.route, 'POST /predict');
  assert.equal(r.results.challenger.malformed_json.status4xx, 1);
  assert.deepEqual(
    r.failures.map((f) => [f.model, f.kind, f.field]),
    [['champion', 'long_string', '/s'], ['challenger', 'null', '/s'], ['challenger', 'long_string', '/s'], ['challenger', 'empty_object', null]],
  );
});

test('original: anything but a scored 2xx is a failure, a 4xx included', () => {
  assert.equal(isFailure('original', { type: 'status4xx', message: 'status 404' }), true);
  assert.equal(isFailure('null', { type: 'status4xx', message: 'status 404' }), false);
  assert.equal(isFailure('original', { type: 'score', score: 0.2 }), false);
  assert.equal(isFailure('original', { type: 'noScore', message: 'status 204' }), true);
});
