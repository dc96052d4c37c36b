import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchReading, countInstances, readScores, type BatchReading } from '../../src/scoring/batch.js';
import { evaluate, type Evaluated, type Scoring } from '../../src/scoring/outcome.js';
import type { CallOk } from '../../src/upstream/model-client.js';
import { parsePointer } from '../../src/util/json-pointer.js';

const KSERVE: BatchReading = { kind: 'preset', preset: 'kserve-v2' };
const TF: BatchReading = { kind: 'preset', preset: 'tfserving' };
const MLFLOW: BatchReading = { kind: 'preset', preset: 'mlflow' };
const RANK = batchReading({ score: '/scores', instances: '/candidates' })!;

test('batchReading: presets and pointer routes with instances are batch-aware, a plain pointer route is not', () => {
  assert.deepEqual(batchReading({ preset: 'tfserving' }), TF);
  assert.deepEqual(RANK, { kind: 'pointer', instances: ['candidates'], scores: ['scores'] });
  assert.equal(batchReading({ score: '/score' }), null);
});

test('countInstances: where each preset names its rows', () => {
  assert.deepEqual(countInstances(KSERVE, { inputs: [{ name: 'x', shape: [3, 20], datatype: 'FP32', data: [] }] }), { n: 3 });
  assert.deepEqual(countInstances(TF, { instances: [[1], [2]] }), { n: 2 });
  assert.deepEqual(countInstances(TF, { inputs: [[1], [2], [3], [4]] }), { n: 4 });
  assert.deepEqual(countInstances(TF, { inputs: { a: [1, 2, 3], b: [4, 5, 6] } }), { n: 3 }, 'columnar inputs: the first column');
  assert.deepEqual(countInstances(MLFLOW, { dataframe_split: { columns: ['a'], data: [[1], [2]] } }), { n: 2 });
  assert.deepEqual(countInstances(MLFLOW, { dataframe_records: [{ a: 1 }, { a: 2 }, { a: 3 }] }), { n: 3 });
  assert.deepEqual(countInstances(MLFLOW, { instances: [1] }), { n: 1 });
  assert.deepEqual(countInstances(MLFLOW, { inputs: [1, 2] }), { n: 2 });
});

test('countInstances: a preset request that names no batch is one instance read as before (null)', () => {
  for (const json of [undefined, 'text', [1, 2], {}, { instances: 'x' }, JSON.parse('{"__proto__": [1, 2]}')]) {
    assert.equal(countInstances(KSERVE, json), null, JSON.stringify(json));
    assert.equal(countInstances(TF, json), null, JSON.stringify(json));
    assert.equal(countInstances(MLFLOW, json), null, JSON.stringify(json));
  }
  for (const shape of [['3'], [-1], [1.5], []]) assert.equal(countInstances(KSERVE, { inputs: [{ shape }] }), null, JSON.stringify(shape));
});

test('countInstances: an empty batch is an error naming where the instances were looked for', () => {
  assert.deepEqual(countInstances(KSERVE, { inputs: [{ shape: [0, 4] }] }), { message: 'empty batch: no instances at /inputs/0/shape/0 in the request' });
  assert.deepEqual(countInstances(TF, { instances: [] }), { message: 'empty batch: no instances at /instances or /inputs in the request' });
  assert.deepEqual(countInstances(RANK, { candidates: [] }), { message: 'empty batch: the array at /candidates in the request has no instances' });
});

test('countInstances: a pointer route needs its array: not JSON, missing and non-array are errors naming the pointer', () => {
  assert.deepEqual(countInstances(RANK, undefined), { message: "request body is not JSON (the route's instances pointer /candidates reads it)" });
  assert.deepEqual(countInstances(RANK, { other: 1 }), { message: "no value at /candidates in the request (the route's instances)" });
  assert.deepEqual(countInstances(RANK, { candidates: { a: 1 } }), { message: "value at /candidates in the request is not an array (the route's instances)" });
  assert.deepEqual(countInstances(RANK, { candidates: 'abc' }), { message: "value at /candidates in the request is not an array (the route's instances)" });
  assert.deepEqual(countInstances(batchReading({ score: '', instances: '' })!, [1, 2]), { n: 2 }, 'the body itself may be the array');
});

test('readScores: kserve-v2 reshapes data by shape and takes the last column; without a shape, rows or one score each', () => {
  const out = (shape: number[] | undefined, data: unknown[]) => ({ outputs: [{ name: 'p', ...(shape ? { shape } : {}), datatype: 'FP32', data }] });
  assert.deepEqual(readScores(out([3, 2], [0.9, 0.1, 0.4, 0.6, 0.2, 0.8]), KSERVE, 3), { ok: true, scores: [0.1, 0.6, 0.8] });
  assert.deepEqual(readScores(out([3], [0.1, 0.6, 0.8]), KSERVE, 3), { ok: true, scores: [0.1, 0.6, 0.8] });
  assert.deepEqual(readScores(out([3, 1], [0.1, 0.6, 0.8]), KSERVE, 3), { ok: true, scores: [0.1, 0.6, 0.8] });
  assert.deepEqual(readScores(out([2, 2], [[0.9, 0.1], [0.4, 0.6]]), KSERVE, 2), { ok: true, scores: [0.1, 0.6] }, 'nested data');
  assert.deepEqual(readScores(out(undefined, [[0.9, 0.1], [0.4, 0.6]]), KSERVE, 2), { ok: true, scores: [0.1, 0.6] });
  assert.deepEqual(readScores(out(undefined, [0.1, 0.6]), KSERVE, 2), { ok: true, scores: [0.1, 0.6] });
  assert.deepEqual(readScores(out(undefined, [0.2, 0.8]), KSERVE, 1), { ok: true, scores: [0.8] }, 'one instance: a two-class row, as before');
  assert.deepEqual(readScores(out([1, 2], [0.2, 0.8]), KSERVE, 1), { ok: true, scores: [0.8] });
});

test('readScores: an answer with another number of scores than instances is a parse failure saying so', () => {
  const kserve = { outputs: [{ shape: [2, 2], data: [0.9, 0.1, 0.4, 0.6] }] };
  assert.deepEqual(readScores(kserve, KSERVE, 3), { ok: false, message: 'answer has 2 rows at /outputs/0 for 3 instances' });
  assert.deepEqual(readScores({ outputs: [{ shape: [3, 2], data: [1, 2, 3] }] }, KSERVE, 3), { ok: false, message: '/outputs/0/data holds 3 values, shape [3,2] needs 6' });
  assert.deepEqual(readScores({ outputs: [{ data: [1, 2, 3, 4, 5] }] }, KSERVE, 2), { ok: false, message: 'answer has 5 rows at /outputs/0 for 2 instances' });
  assert.deepEqual(readScores({ predictions: [0.1, 0.2] }, TF, 3), { ok: false, message: 'answer has 2 scores at /predictions for 3 instances' });
  assert.deepEqual(readScores({ predictions: [0.1, 0.2] }, MLFLOW, 1), { ok: false, message: 'answer has 2 scores at /predictions for 1 instance' });
  assert.deepEqual(readScores({ scores: [0.1, 0.2, 0.3, 0.4] }, RANK, 3), { ok: false, message: 'answer has 4 scores at /scores for 3 instances' });
});

test('readScores: elements are numbers or arrays whose last element is the score; anything else names the element', () => {
  assert.deepEqual(readScores({ predictions: [[0.9, 0.1], 0.7, [0.3]] }, TF, 3), { ok: true, scores: [0.1, 0.7, 0.3] });
  assert.deepEqual(readScores({ scores: [0.1, '0.2'] }, RANK, 2), { ok: false, message: 'value at /scores/1 is not a number' });
  assert.deepEqual(readScores({ scores: [0.1, null] }, RANK, 2), { ok: false, message: 'value at /scores/1 is not a number' });
  assert.deepEqual(readScores({ scores: [[], 0.2] }, RANK, 2), { ok: false, message: 'value at /scores/0 is not a number' });
  assert.deepEqual(readScores({ scores: 0.2 }, RANK, 2), { ok: false, message: 'value at /scores is not an array (one score per instance)' });
  assert.deepEqual(readScores({}, RANK, 2), { ok: false, message: 'no value at /scores' });
  assert.deepEqual(readScores({ outputs: [{ data: 'x' }] }, KSERVE, 2), { ok: false, message: 'value at /outputs/0/data is not an array of numbers' });
  assert.deepEqual(readScores({ outputs: [{ shape: [2, 'a'], data: [1, 2] }] }, KSERVE, 2), { ok: false, message: 'value at /outputs/0/shape is not a list of dimensions' });
});

function ok(body: unknown): CallOk {
  return { ok: true, status: 200, headers: {}, contentEncoding: undefined, body: Buffer.from(JSON.stringify(body)), latencyMs: 7.5 };
}

function sync(e: Evaluated | Promise<Evaluated>): Evaluated {
  assert.ok(!(e instanceof Promise));
  return e;
}

const RANKING: Scoring = { version: 'r1', pointer: parsePointer('/scores'), threshold: 0.5, normalize: null, batch: RANK, maxBytes: 1 << 24 };

test('evaluate: more than one instance gives scores and decisions arrays, score and decision null', () => {
  const e = sync(evaluate(ok({ scores: [0.2, [0.1, 0.9], 0.5] }), RANKING, { n: 3 }));
  assert.deepEqual(e.outcome, { version: 'r1', status: 200, latencyMs: 7.5, score: null, decision: null, error: null, scores: [0.2, 0.9, 0.5], decisions: [false, true, true] });
});

test('evaluate: one instance is recorded exactly as a single score', () => {
  const e = sync(evaluate(ok({ scores: [[0.3, 0.7]] }), RANKING, { n: 1 }));
  assert.deepEqual(e.outcome, { version: 'r1', status: 200, latencyMs: 7.5, score: 0.7, decision: true, error: null });
});

test('evaluate: a batch that cannot be read is kind parse; with several instances scores and decisions are null', () => {
  const fewer = sync(evaluate(ok({ scores: [0.2, 0.3] }), RANKING, { n: 3 }));
  assert.deepEqual(fewer.outcome, { version: 'r1', status: 200, latencyMs: 7.5, score: null, decision: null, error: { kind: 'parse', message: 'answer has 2 scores at /scores for 3 instances' }, scores: null, decisions: null });
  const bad = sync(evaluate(ok({ scores: [0.2] }), RANKING, { message: 'value at /candidates in the request is not an array (the route\'s instances)' }));
  assert.deepEqual(bad.outcome.error, { kind: 'parse', message: 'value at /candidates in the request is not an array (the route\'s instances)' });
  assert.equal('scores' in bad.outcome, false);
  const status = sync(evaluate({ ...ok({}), status: 503 }, RANKING, { n: 3 }));
  assert.equal(status.outcome.error?.kind, 'status', 'a failed call keeps its kind');
  assert.equal(status.outcome.scores, null);
});

test('evaluate: with calibration a batch records normalized per instance and decides on it', () => {
  const s: Scoring = { ...RANKING, normalize: (v, x) => (v === 'r1' ? x / 2 : null) };
  const e = sync(evaluate(ok({ scores: [0.8, 1.2] }), s, { n: 2 }));
  assert.deepEqual(e.outcome.normalized, [0.4, 0.6]);
  assert.deepEqual(e.outcome.decisions, [false, true]);
  const other = sync(evaluate(ok({ scores: [0.8, 0.2] }), { ...s, version: 'r2' }, { n: 2 }));
  assert.deepEqual(other.outcome.normalized, [null, null], 'a version without a table: raw scores decide');
  assert.deepEqual(other.outcome.decisions, [true, false]);
});

test('evaluate: a preset request without a batch field is read with the preset pointer, as before', () => {
  const s: Scoring = { version: 'k', pointer: parsePointer('/outputs/0/data'), threshold: 0.5, normalize: null, batch: KSERVE, maxBytes: 1 << 24 };
  assert.equal(sync(evaluate(ok({ outputs: [{ data: [0.3, 0.6] }] }), s, null)).outcome.score, 0.6);
});
