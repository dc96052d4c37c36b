import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuardrailWindow, isChallengerCall } from '../../src/guardrails/window.js';
import { ScoreReference } from '../../src/guardrails/score-reference.js';
import { findBreach } from '../../src/guardrails/rules.js';
import { pair } from './records.js';

function close(actual: number | null, expected: number) {
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `expected ${expected}, got ${actual}`);
}

test('only records where the challenger was called and the request was not rejected are taken', () => {
  const w = new GuardrailWindow({ window: 4, minSamples: 1 });
  assert.equal(w.observe(pair({}, { error: 'skipped' })), false);
  assert.equal(w.observe(pair({}, {}, { error: { kind: 'too_large', message: 'x' } })), false);
  assert.equal(isChallengerCall(pair({ error: 'skipped' }, {})), true, 'a skipped champion does not matter');
  assert.equal(w.size, 0);
});

test('error rate: every kind but canceled over challenger calls, over the last `window` records', () => {
  const w = new GuardrailWindow({ window: 4, minSamples: 2 });
  w.observe(pair({}, {}));
  assert.equal(w.errorRate(), null, 'below minSamples');
  for (const error of ['timeout', 'canceled', 'status'] as const) w.observe(pair({}, { error }));
  assert.equal(w.errorRate(), 2 / 4); // ok, timeout, canceled, status
  w.observe(pair({}, {})); // the first ok leaves
  assert.equal(w.errorRate(), 2 / 4);
  w.observe(pair({}, {})); // the timeout leaves: canceled, status, ok, ok
  assert.equal(w.errorRate(), 1 / 4);
  w.observe(pair({}, { error: 'connect' })); // status, ok, ok, connect
  assert.equal(w.errorRate(), 2 / 4);
  w.observe(pair({}, { error: 'parse' })); // ok, ok, connect, parse
  w.observe(pair({}, { error: 'timeout' })); // ok, connect, parse, timeout
  assert.equal(w.errorRate(), 3 / 4);
});

test('latency p99 ratio: challenger [10..50] against a flat champion 10 → 49.6 / 10', () => {
  const w = new GuardrailWindow({ window: 5, minSamples: 3 });
  for (const ms of [30, 10, 50, 20]) w.observe(pair({ latencyMs: 10 }, { latencyMs: ms }));
  // 4 values [10, 20, 30, 50]: h = 3 × 0.99 = 2.97 → 30 + 0.97 × 20 = 49.4
  close(w.latencyP99('challenger'), 49.4);
  w.observe(pair({ latencyMs: 10 }, { latencyMs: 40 }));
  close(w.latencyP99('challenger'), 49.6);
  close(w.latencyP99('champion'), 10);
  close(w.latencyP99Ratio(), 4.96);
  // Failed calls have a latency too: a timeout counts at its measured duration.
  w.observe(pair({ latencyMs: 10 }, { latencyMs: 250, error: 'timeout' })); // the 30 leaves: [10, 20, 40, 50, 250]
  close(w.latencyP99('challenger'), 50 + 0.96 * 200);
});

test('latency p99 ratio is null while either model has fewer than minSamples latencies', () => {
  const w = new GuardrailWindow({ window: 10, minSamples: 3 });
  // Shadow off, challenger served: the champion was not called.
  for (let i = 0; i < 5; i++) w.observe(pair({ error: 'skipped' }, { latencyMs: 20 }));
  assert.equal(w.latencyP99('champion'), null);
  assert.equal(w.latencyP99Ratio(), null);
  close(w.latencyP99('challenger'), 20);
});

test('decision-rate ratio: challenger 3/4 acts, champion 1/4 → 3; null when the champion never acts', () => {
  const w = new GuardrailWindow({ window: 8, minSamples: 4 });
  const c = [true, false, false, false];
  const l = [true, true, true, false];
  for (let i = 0; i < 4; i++) w.observe(pair({ decision: c[i]! }, { decision: l[i]! }));
  close(w.decisionRate('champion'), 0.25);
  close(w.decisionRate('challenger'), 0.75);
  close(w.decisionRateRatio(), 3);
  // Outcomes without a decision are left out of both counts.
  w.observe(pair({ decision: true }, { error: 'parse' }));
  close(w.decisionRate('champion'), 2 / 5);
  close(w.decisionRate('challenger'), 0.75);
  close(w.decisionRateRatio(), 0.75 / 0.4);

  const never = new GuardrailWindow({ window: 8, minSamples: 4 });
  for (let i = 0; i < 4; i++) never.observe(pair({ decision: false }, { decision: true }));
  assert.equal(never.decisionRateRatio(), null);
});

test('score PSI against the first `window` scores, empty bins floored at 1e-4 (hand-computed)', () => {
  const w = new GuardrailWindow({ window: 10, minSamples: 5 });
  // Reference = scores 1..10: edges 1.9, 2.8, ..., 9.1, one score per bin.
  for (let s = 1; s <= 9; s++) w.observe(pair({}, { score: s }));
  assert.equal(w.scorePsi(), null, 'the reference is not full yet');
  w.observe(pair({}, { score: 10 }));
  assert.equal(w.reference.full, true);
  close(w.scorePsi(), 0);
  // The window now holds 6..10 and five 10s: bins 0-4 empty (floored), 5-8 one each, 9 six.
  for (let i = 0; i < 5; i++) w.observe(pair({}, { score: 10 }));
  // 5 × (1e-4 − 0.1) · ln(1e-4 / 0.1) + (0.6 − 0.1) · ln(0.6 / 0.1)
  close(w.scorePsi(), 4.346303496465605);
  for (let i = 0; i < 5; i++) w.observe(pair({}, { score: 10 }));
  // All ten in bin 9: 9 × (1e-4 − 0.1) · ln(1e-3) + 0.9 · ln(10)
  close(w.scorePsi(), 8.283089355027482);
});

test('score PSI: records without a score feed neither the reference nor the window; minSamples applies to scores', () => {
  const w = new GuardrailWindow({ window: 4, minSamples: 3 });
  w.observe(pair({}, { error: 'status' }));
  for (const s of [0.1, 0.2, 0.3]) w.observe(pair({}, { score: s }));
  assert.equal(w.reference.full, false, 'three scores so far');
  w.observe(pair({}, { score: 0.4 })); // the error leaves; the reference fills with 0.1..0.4
  assert.equal(w.reference.full, true);
  close(w.scorePsi(), 0);
  w.observe(pair({}, { error: 'timeout' }));
  w.observe(pair({}, { error: 'timeout' })); // holds 0.3, 0.4 and two errors: 2 scores < minSamples
  assert.equal(w.scorePsi(), null);
});

test('ScoreReference: edges are the deciles by linear interpolation, counts per bin', () => {
  const r = new ScoreReference(5);
  for (const s of [0, 0, 0, 1, 1]) r.add(s);
  // sorted [0, 0, 0, 1, 1], h = 4p: p ≤ 0.5 → 0; p = 0.6 → h = 2.4 → 0.4; 0.7 → 0.8; 0.8, 0.9 → 1
  const edges = r.edges!;
  assert.deepEqual(edges.slice(0, 5), [0, 0, 0, 0, 0]);
  close(edges[5]!, 0.4);
  close(edges[6]!, 0.8);
  assert.deepEqual(edges.slice(7), [1, 1]);
  // 0 is above no edge (bin 0); 1 is above the seven edges below 1 (bin 7).
  assert.deepEqual(r.counts, [3, 0, 0, 0, 0, 0, 0, 2, 0, 0]);
  assert.equal(r.add(0.5), false, 'full: later scores are not taken');
  assert.throws(() => new ScoreReference(3).bin(0.5), /not full yet/);
});

test('findBreach: off below minSamples, absent limits are off, strictly above the limit, first rule wins', () => {
  const w = new GuardrailWindow({ window: 10, minSamples: 4 });
  for (let i = 0; i < 3; i++) w.observe(pair({ latencyMs: 10 }, { error: 'status', latencyMs: 30 }));
  assert.equal(findBreach(w, { maxErrorRate: 0 }), null, 'below minSamples');
  w.observe(pair({ latencyMs: 10 }, { latencyMs: 30 }));
  // error rate 0.75, p99 ratio 3
  assert.deepEqual(findBreach(w, { maxErrorRate: 0.5, maxLatencyP99Ratio: 2 }), { rule: 'error_rate', value: 0.75, limit: 0.5 });
  assert.deepEqual(findBreach(w, { maxLatencyP99Ratio: 2 }), { rule: 'latency_p99_ratio', value: 3, limit: 2 });
  assert.equal(findBreach(w, { maxErrorRate: 0.75, maxLatencyP99Ratio: 3 }), null, 'equal to the limit is not a breach');
  assert.equal(findBreach(w, {}), null);
});

test('rejects a bad window or minSamples', () => {
  assert.throws(() => new GuardrailWindow({ window: 0, minSamples: 1 }), /window must be an integer >= 1, got 0/);
  assert.throws(() => new GuardrailWindow({ window: 5, minSamples: 1.5 }), /minSamples must be an integer >= 1, got 1.5/);
});
