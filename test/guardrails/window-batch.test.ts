import { test } from 'node:test';
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import { GuardrailWindow } from '../../src/guardrails/window.js';
import type { ModelOutcome, PairRecord } from '../../src/records/types.js';
import { psi } from '../../src/stats/psi.js';
import { pair } from './records.js';

/** A batch record of `scores.length` instances per model (a challenger `error` leaves its arrays null). */
function batch(champion: number[], challenger: number[] | 'parse', latencyMs = 10): PairRecord {
  const o = (version: string, scores: number[] | null): ModelOutcome => ({
    version, status: 200, latencyMs, score: null, decision: null,
    error: scores === null ? { kind: 'parse', message: 'fewer scores' } : null,
    scores, decisions: scores === null ? null : scores.map((s) => s >= 0.5),
  });
  return { ...pair(), champion: o('v-champ', champion), challenger: o('v-chall', challenger === 'parse' ? null : challenger), instances: champion.length };
}

test('a batch record counts each instance in the decision rates, once in the error rate', () => {
  const w = new GuardrailWindow({ window: 4, minSamples: 2 });
  w.observe(batch([0.9, 0.1, 0.1, 0.1], [0.9, 0.9, 0.9, 0.1]));
  assert.equal(w.decisionRate('champion'), 1 / 4);
  assert.equal(w.decisionRate('challenger'), 3 / 4);
  assert.equal(w.errorRate(), null, 'one call: below minSamples whatever its instances');
  w.observe(batch([0.9, 0.9], 'parse'));
  assert.equal(w.errorRate(), 1 / 2, 'errors per call');
  assert.equal(w.decisionRate('champion'), 3 / 6);
  assert.equal(w.decisionRate('challenger'), 3 / 4, 'a failed batch adds no decision');
  for (let i = 0; i < 4; i++) w.observe(pair({ decision: false }, { decision: false }));
  assert.equal(w.decisionRate('champion'), 0, 'the batches left the window with all their instances');
  assert.equal(w.decisionRate('challenger'), 0);
});

test('guardrail window over batch records equals a plain recomputation over the instances of the last `window` records', () => {
  const rng = seedrandom('window-batch');
  const size = 20;
  const w = new GuardrailWindow({ window: size, minSamples: 5 });
  const taken: PairRecord[] = [];
  const reference: number[] = [];
  for (let i = 0; i < 400; i++) {
    const n = 1 + Math.floor(rng() * 4);
    const scores = () => Array.from({ length: n }, () => Math.round(rng() * 1000) / 1000);
    const r = rng() < 0.1 ? batch(scores(), 'parse') : n === 1 ? pair({ score: scores()[0]! }, { score: scores()[0]! }) : batch(scores(), scores());
    w.observe(r);
    taken.push(r);
    const held = taken.slice(-size);
    const instances = (o: ModelOutcome) => (o.scores ?? (o.score === null ? [] : [o.score]));
    const decisions = (o: ModelOutcome) => (o.decisions ?? (o.decision === null ? [] : [o.decision]));
    for (const x of instances(r.challenger)) if (reference.length < size) reference.push(x);
    for (const role of ['champion', 'challenger'] as const) {
      const d = held.flatMap((h) => decisions(h[role]));
      const expected = d.length < 5 ? null : d.filter(Boolean).length / d.length;
      const got = w.decisionRate(role);
      assert.ok(got === expected || Math.abs(got! - expected!) < 1e-12, `record ${i} ${role}: ${got} != ${expected}`);
    }
    const actual = held.flatMap((h) => instances(h.challenger));
    const expectedPsi = reference.length < size || actual.length < 5 ? null : psi(reference, actual);
    const gotPsi = w.scorePsi();
    assert.ok(gotPsi === expectedPsi || Math.abs(gotPsi! - expectedPsi!) < 1e-9, `record ${i} psi: ${gotPsi} != ${expectedPsi}`);
    assert.equal(w.errorRate(), held.length < 5 ? null : held.filter((h) => h.challenger.error !== null).length / held.length);
  }
});

test('a worker\'s compact view of a batch record keeps its instances for the primary\'s guardrails', async () => {
  const { fromView, toView } = await import('../../src/cluster/messages.js');
  const r = batch([0.9, 0.1, 0.1], [0.9, 0.9, 0.1]);
  const direct = new GuardrailWindow({ window: 4, minSamples: 1 });
  const relayed = new GuardrailWindow({ window: 4, minSamples: 1 });
  direct.observe(r);
  relayed.observe(fromView(JSON.parse(JSON.stringify(toView(r)))));
  for (const role of ['champion', 'challenger'] as const) assert.equal(relayed.decisionRate(role), direct.decisionRate(role));
  assert.equal(relayed.decisionRate('challenger'), 2 / 3);
  assert.equal(toView(pair()).length, 3, 'a single record\'s view is as short as before');
});

test('large batches straddling the reference fill are binned whole and leave the window with their record', () => {
  const w = new GuardrailWindow({ window: 10, minSamples: 5 });
  const big = Array.from({ length: 100_000 }, (_, i) => (i % 1000) / 1000);
  // The first batch fills the reference part-way (its first 10 scores) and is binned whole.
  w.observe(batch(big.map(() => 0.5), big));
  for (let i = 0; i < 30; i++) w.observe(batch(big.map(() => 0.5), big));
  assert.equal(w.decisionRate('challenger'), 0.5);
  const psi = w.scorePsi();
  assert.equal(typeof psi, 'number');
  for (let i = 0; i < 10; i++) w.observe(pair({}, { score: 0.001 }));
  assert.equal(w.decisionRate('challenger'), 0, 'every batch left the window');
  assert.notEqual(w.scorePsi(), psi);
});
