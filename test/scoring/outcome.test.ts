import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { evaluate, type Evaluated, type Scoring } from '../../src/scoring/outcome.js';
import type { CallFailed, CallOk } from '../../src/upstream/model-client.js';
import { parsePointer } from '../../src/util/json-pointer.js';

const SCORING: Scoring = { version: 'v7', pointer: parsePointer('/score'), threshold: 0.5, normalize: null, maxBytes: 1 << 20 };

function ok(body: string | Buffer, status = 200, contentEncoding?: string): CallOk {
  return { ok: true, status, headers: {}, contentEncoding, body: typeof body === 'string' ? Buffer.from(body) : body, latencyMs: 12.5 };
}

function sync(e: Evaluated | Promise<Evaluated>): Evaluated {
  assert.ok(!(e instanceof Promise), 'expected a synchronous outcome');
  return e;
}

test('a 2xx with a score: score, decision at the threshold (>=), the parsed body, no promise', () => {
  const at = sync(evaluate(ok('{"score":0.5,"id":"x"}'), SCORING));
  assert.deepEqual(at.outcome, { version: 'v7', status: 200, latencyMs: 12.5, score: 0.5, decision: true, error: null });
  assert.deepEqual(at.json, { score: 0.5, id: 'x' });
  const below = sync(evaluate(ok('{"score":0.4999}'), SCORING));
  assert.equal(below.outcome.decision, false);
  assert.equal(sync(evaluate(ok('{"score":[0.9,0.1]}'), SCORING)).outcome.score, 0.1, 'the last element of an array of numbers');
  assert.equal(sync(evaluate(ok('{"score":0.7}', 302), SCORING)).outcome.score, 0.7, 'any status below 400 is read');
});

test('a status >= 400 is kind status and no score is read, even when the body has one', () => {
  for (const status of [400, 404, 500, 503]) {
    const e = sync(evaluate(ok('{"score":0.9}', status), SCORING));
    assert.deepEqual(e.outcome, { version: 'v7', status, latencyMs: 12.5, score: null, decision: null, error: { kind: 'status', message: `model answered ${status}` } });
    assert.equal(e.json, undefined);
  }
});

test('a 2xx without a numeric score is kind parse, saying why', () => {
  const cases: Array<[string, string]> = [
    ['', 'response body is not JSON'],
    ['not json', 'response body is not JSON'],
    ['{"other":1}', 'no value at /score'],
    ['{"score":"0.9"}', 'value at /score is not a number'],
    ['{"score":null}', 'value at /score is not a number'],
    ['{"score":[]}', 'value at /score is not a number'],
  ];
  for (const [body, message] of cases) {
    const e = sync(evaluate(ok(body), SCORING));
    assert.deepEqual(e.outcome.error, { kind: 'parse', message }, body);
    assert.equal(e.outcome.status, 200);
    assert.equal(e.outcome.score, null);
  }
});

test('a failed call keeps its kind and message; status and score are null', () => {
  const failed: CallFailed = { ok: false, kind: 'timeout', message: 'no complete answer within 250 ms', latencyMs: 250.01 };
  const e = sync(evaluate(failed, SCORING));
  assert.deepEqual(e.outcome, { version: 'v7', status: null, latencyMs: 250.01, score: null, decision: null, error: { kind: 'timeout', message: 'no complete answer within 250 ms' } });
  assert.equal(e.result, failed);
});

test('a compressed body is decoded first (a promise); an undecodable one is kind parse naming the encoding', async () => {
  const json = Buffer.from('{"score":0.8}');
  for (const [encoding, body] of [['gzip', zlib.gzipSync(json)], ['deflate', zlib.deflateSync(json)], ['br', zlib.brotliCompressSync(json)]] as const) {
    const pending = evaluate(ok(body, 200, encoding), SCORING);
    assert.ok(pending instanceof Promise, encoding);
    assert.equal((await pending).outcome.score, 0.8, encoding);
  }
  const bad = await evaluate(ok('not gzip', 200, 'gzip'), SCORING);
  assert.equal(bad.outcome.error?.kind, 'parse');
  assert.match(bad.outcome.error!.message, /^cannot decode gzip body: /);
  assert.equal(sync(evaluate(ok('{"score":0.8}', 200, 'identity'), SCORING)).outcome.score, 0.8, 'other encodings are read as is');
  assert.equal(sync(evaluate(ok('', 200, 'gzip'), SCORING)).outcome.error?.message, 'response body is not JSON', 'an empty body is not decoded');
  assert.equal(sync(evaluate(ok('x', 500, 'gzip'), SCORING)).outcome.error?.kind, 'status', 'an error status is not decoded');
});

test('with calibration: normalized recorded, the decision compares it; a version without a table falls back to the raw score', () => {
  const normalize = (version: string, score: number) => (version === 'v7' ? score / 2 : null);
  const s: Scoring = { ...SCORING, normalize };
  const e = sync(evaluate(ok('{"score":0.8}'), s));
  assert.deepEqual(e.outcome, { version: 'v7', status: 200, latencyMs: 12.5, score: 0.8, decision: false, error: null, normalized: 0.4 });
  const other = sync(evaluate(ok('{"score":0.8}'), { ...s, version: 'v8' }));
  assert.equal(other.outcome.normalized, null);
  assert.equal(other.outcome.decision, true);
  const failed = sync(evaluate(ok('{}', 503), s));
  assert.equal(failed.outcome.normalized, null, 'a failure records normalized: null with calibration');
  assert.equal('normalized' in sync(evaluate(ok('{}', 503), SCORING)).outcome, false, 'and no normalized field without');
});

test('regression: a gzip answer that decodes past limits.responseBytes is kind too_large, not decoded whole', async () => {
  const bomb = zlib.gzipSync(Buffer.alloc(8 << 20)); // 8 MiB of zeros in a few KiB
  const e = await evaluate(ok(bomb, 200, 'gzip'), SCORING);
  assert.equal(e.outcome.error?.kind, 'too_large');
  assert.equal(e.outcome.error?.message, `the gzip answer decodes to more than limits.responseBytes (${SCORING.maxBytes} bytes)`);
  assert.equal(e.outcome.score, null);
});
