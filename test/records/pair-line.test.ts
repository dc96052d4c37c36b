import { test } from 'node:test';
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import { pairLine } from '../../src/records/pair-line.js';
import type { ModelOutcome, PairRecord } from '../../src/records/types.js';

/** The record as JSON.stringify writes it, keys in the SPEC's order (SPEC 6's example). */
function reference(r: PairRecord, time: number): string {
  const outcome = (o: ModelOutcome) => ({ version: o.version, status: o.status, latencyMs: o.latencyMs, score: o.score, decision: o.decision, error: o.error, normalized: o.normalized });
  return JSON.stringify({
    level: 30, time, msg: 'pair',
    requestId: r.requestId, route: r.route, config: r.config, unit: r.unit,
    assigned: r.assigned, bucket: r.bucket, group: r.group, served: r.served, fallback: r.fallback,
    champion: outcome(r.champion), challenger: outcome(r.challenger), agree: r.agree, fields: r.fields,
    request: r.request, response: r.response, error: r.error,
  }) + '\n';
}

/** Strings with what JSON must escape: quotes, backslashes, controls, U+2028, lone surrogates, non-ASCII. */
function text(rng: () => number): string {
  const pieces = ['a', 'Z', '9', '-', ' ', '"', '\\', '\n', '\t', '\u0000', '\u001f', '\u2028', '\ud800', '\udfff', '😀', 'é', '/', '{', '}'];
  let s = '';
  for (let i = Math.floor(rng() * 12); i > 0; i--) s += pieces[Math.floor(rng() * pieces.length)];
  return s;
}

function pick<T>(rng: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rng() * xs.length)]!;
}

function number(rng: () => number): number | null {
  return pick(rng, [null, 0, -0, 200, 0.1 + 0.2, rng(), rng() * 1e-9, rng() * 1e21, -rng() * 100, Math.round(rng() * 1e4) / 100, NaN, Infinity]);
}

function outcome(rng: () => number): ModelOutcome {
  const o: ModelOutcome = {
    version: text(rng),
    status: number(rng),
    latencyMs: number(rng),
    score: number(rng),
    decision: pick(rng, [null, true, false]),
    error: rng() < 0.5 ? null : { kind: pick(rng, ['timeout', 'connect', 'status', 'parse', 'skipped', 'canceled'] as const), message: text(rng) },
  };
  if (rng() < 0.3) o.normalized = number(rng);
  return o;
}

function json(rng: () => number, depth = 0): unknown {
  const k = Math.floor(rng() * (depth > 2 ? 4 : 6));
  if (k === 0) return null;
  if (k === 1) return number(rng) ?? 1;
  if (k === 2) return text(rng);
  if (k === 3) return rng() < 0.5;
  if (k === 4) return Array.from({ length: Math.floor(rng() * 3) }, () => json(rng, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(rng() * 3) }, () => [text(rng), json(rng, depth + 1)]));
}

function record(rng: () => number): PairRecord {
  const r: PairRecord = {
    requestId: text(rng),
    route: text(rng),
    config: text(rng),
    assigned: pick(rng, [null, 'key', 'random'] as const),
    bucket: number(rng),
    group: pick(rng, [null, 'champion', 'challenger', 'control'] as const),
    served: pick(rng, [null, 'champion', 'challenger'] as const),
    fallback: rng() < 0.5,
    champion: outcome(rng),
    challenger: outcome(rng),
    agree: pick(rng, [null, true, false]),
    fields: Object.fromEntries(Array.from({ length: Math.floor(rng() * 3) }, () => [text(rng), json(rng)])),
  };
  if (rng() < 0.7) r.unit = rng() < 0.2 ? null : text(rng);
  if (rng() < 0.3) {
    r.request = json(rng);
    r.response = json(rng);
  }
  if (rng() < 0.3) r.error = { kind: pick(rng, ['bad_request', 'too_large', 'client_abort', 'client_timeout'] as const), message: text(rng) };
  return r;
}

test('pairLine writes the same bytes as JSON.stringify of the record in the SPEC\'s key order', () => {
  const rng = seedrandom('pair-line');
  for (let i = 0; i < 5000; i++) {
    const r = record(rng);
    const time = 1795000000000 + i;
    assert.equal(pairLine(r, time), reference(r, time), `record ${i}: ${JSON.stringify(r)}`);
  }
});

test('pairLine: the SPEC\'s example record, one line, keys in the example\'s order', () => {
  const r: PairRecord = {
    requestId: '4b0f6a3e-9f1c-4d2a-8a77-1f0c2b9e5d11', route: 'POST /predict', config: '3fa1c09b2e7d', unit: 'u-123',
    assigned: 'key', bucket: 0.13937131520971816, group: 'champion', served: 'champion', fallback: false,
    champion: { version: 'fraud-v7', status: 200, latencyMs: 12.31, score: 0.81, decision: true, error: null },
    challenger: { version: 'fraud-v8', status: 200, latencyMs: 15.07, score: 0.77, decision: true, error: null },
    agree: true, fields: { country: 'US' },
  };
  assert.equal(
    pairLine(r, 1795000000000),
    '{"level":30,"time":1795000000000,"msg":"pair","requestId":"4b0f6a3e-9f1c-4d2a-8a77-1f0c2b9e5d11",'
      + '"route":"POST /predict","config":"3fa1c09b2e7d","unit":"u-123","assigned":"key",'
      + '"bucket":0.13937131520971816,"group":"champion","served":"champion","fallback":false,'
      + '"champion":{"version":"fraud-v7","status":200,"latencyMs":12.31,"score":0.81,"decision":true,"error":null},'
      + '"challenger":{"version":"fraud-v8","status":200,"latencyMs":15.07,"score":0.77,"decision":true,"error":null},'
      + '"agree":true,"fields":{"country":"US"}}\n',
  );
});

test('pairLine: batch records (scores, decisions, normalized arrays, agree as a share, instances) write the same bytes as JSON.stringify', () => {
  const rng = seedrandom('pair-line-batch');
  const batchOutcome = (o: ModelOutcome, n: number): ModelOutcome => {
    const ok = o.error === null;
    const out: ModelOutcome = { ...o, score: null, decision: null };
    out.scores = ok ? Array.from({ length: n }, () => number(rng) ?? 0) : null;
    out.decisions = ok ? Array.from({ length: n }, () => rng() < 0.5) : null;
    if (o.normalized !== undefined) out.normalized = ok ? Array.from({ length: n }, () => number(rng)) : null;
    return out;
  };
  const ref = (r: PairRecord, time: number) => {
    const outcome = (o: ModelOutcome) => ({ version: o.version, status: o.status, latencyMs: o.latencyMs, score: o.score, decision: o.decision, error: o.error, normalized: o.normalized, scores: o.scores, decisions: o.decisions });
    return JSON.stringify({
      level: 30, time, msg: 'pair',
      requestId: r.requestId, route: r.route, config: r.config, unit: r.unit,
      assigned: r.assigned, bucket: r.bucket, group: r.group, served: r.served, fallback: r.fallback,
      champion: outcome(r.champion), challenger: outcome(r.challenger), agree: r.agree, instances: r.instances, fields: r.fields,
      request: r.request, response: r.response, error: r.error,
    }) + '\n';
  };
  for (let i = 0; i < 2000; i++) {
    const r = record(rng);
    const n = 2 + Math.floor(rng() * 5);
    r.champion = batchOutcome(r.champion, n);
    r.challenger = batchOutcome(r.challenger, n);
    r.agree = pick(rng, [null, 0, 1, 0.5, 2 / 3]);
    r.instances = n;
    const time = 1795000000000 + i;
    assert.equal(pairLine(r, time), ref(r, time), `record ${i}: ${JSON.stringify(r)}`);
  }
});
