/**
 * Turning a model call's result into a model outcome of the pair record (status, score, decision,
 * error kind; see docs/records.md#model-outcome).
 */
import type { Normalizer } from '../calibration/normalize.js';
import type { ModelOutcome } from '../records/types.js';
import type { CallOk, CallResult } from '../upstream/model-client.js';
import type { Pointer } from '../util/json-pointer.js';
import { readScores, type BatchReading, type RequestBatch } from './batch.js';
import { decodeBody, DecodedTooLarge, needsDecoding, readScoreFrom } from './score.js';

export interface Evaluated {
  outcome: ModelOutcome;
  /** The call's result (the answer, when this model's is sent). */
  result: CallResult;
  /** The parsed response body when it was JSON with a score (for control patches, injection). */
  json?: unknown;
}

export interface Scoring {
  version: string;
  pointer: Pointer;
  threshold: number;
  /** With calibration: the decision compares the normalized score with `threshold`. */
  normalize: Normalizer | null;
  /** A batch-aware route (a preset, or `instances`): how one score per instance is read. */
  batch?: BatchReading | null;
  /** `limits.responseBytes`: a compressed answer decodes to at most this. */
  maxBytes: number;
}

/**
 * The outcome of one call. Synchronous unless the body is compressed (decoding is async): the
 * common case costs no promise. `batch`: the request's instances on a batch-aware route (null: one
 * score per request, read with `s.pointer`).
 */
export function evaluate(result: CallResult, s: Scoring, batch: RequestBatch | null = null): Evaluated | Promise<Evaluated> {
  if (result.ok && result.status < 400 && result.body.length > 0) {
    const encoding = result.contentEncoding;
    if (needsDecoding(encoding)) {
      return decodeBody(result.body, encoding, s.maxBytes).then(
        (body) => scored(result, body, s, batch),
        (err: Error) => err instanceof DecodedTooLarge
          ? failed(result, s, 'too_large', err.message, batch)
          : failed(result, s, 'parse', `cannot decode ${encoding} body: ${err.message}`, batch),
      );
    }
  }
  return result.ok && result.status < 400 ? scored(result, result.body, s, batch) : unscored(result, s, batch);
}

function unscored(result: CallResult, s: Scoring, batch: RequestBatch | null): Evaluated {
  if (!result.ok) return failed(result, s, result.kind, result.message, batch);
  return failed(result, s, 'status', `model answered ${result.status}`, batch);
}

/**
 * The outcome of a call whose answer ccrouter failed to evaluate (a fault of its own, counted
 * elsewhere): the call happened, its score is unknown.
 */
export function notEvaluated(result: CallResult, s: Scoring, err: unknown, batch: RequestBatch | null = null): Evaluated {
  return failed(result, s, 'parse', `answer not evaluated: ${err instanceof Error ? err.message : String(err)}`, batch);
}

/** More than one instance: the outcome carries `scores`/`decisions` (docs/records.md#batches). */
const isBatch = (batch: RequestBatch | null): batch is { n: number } => batch !== null && 'n' in batch && batch.n > 1;

function failed(result: CallResult, s: Scoring, kind: NonNullable<ModelOutcome['error']>['kind'], message: string, batch: RequestBatch | null): Evaluated {
  const outcome: ModelOutcome = { version: s.version, status: result.ok ? result.status : null, latencyMs: result.latencyMs, score: null, decision: null, error: { kind, message } };
  if (s.normalize !== null) outcome.normalized = null;
  if (isBatch(batch)) {
    outcome.scores = null;
    outcome.decisions = null;
  }
  return { outcome, result };
}

function scored(result: CallOk, body: Buffer, s: Scoring, batch: RequestBatch | null): Evaluated {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return failed(result, s, 'parse', 'response body is not JSON', batch);
  }
  if (s.batch && batch !== null) {
    if (!('n' in batch)) return failed(result, s, 'parse', batch.message, batch);
    const read = readScores(json, s.batch, batch.n);
    if (!read.ok) return failed(result, s, 'parse', read.message, batch);
    if (batch.n > 1) return { outcome: batchOutcome(result, s, read.scores), result, json };
    return { outcome: oneOutcome(result, s, read.scores[0]!), result, json };
  }
  const read = readScoreFrom(json, s.pointer);
  if (!read.ok) return failed(result, s, 'parse', read.message, batch);
  return { outcome: oneOutcome(result, s, read.score), result, json };
}

/** A score's decision: the normalized score against the threshold with calibration, else the raw one. */
function decide(s: Scoring, score: number): { decision: boolean; normalized?: number | null } {
  if (s.normalize === null) return { decision: score >= s.threshold };
  const normalized = s.normalize(s.version, score);
  return { decision: (normalized ?? score) >= s.threshold, normalized };
}

function oneOutcome(result: CallOk, s: Scoring, score: number): ModelOutcome {
  const d = decide(s, score);
  const outcome: ModelOutcome = { version: s.version, status: result.status, latencyMs: result.latencyMs, score, decision: d.decision, error: null };
  if (d.normalized !== undefined) outcome.normalized = d.normalized;
  return outcome;
}

function batchOutcome(result: CallOk, s: Scoring, scores: number[]): ModelOutcome {
  const decisions = new Array<boolean>(scores.length);
  const normalized = s.normalize !== null ? new Array<number | null>(scores.length) : null;
  for (let i = 0; i < scores.length; i++) {
    const d = decide(s, scores[i]!);
    decisions[i] = d.decision;
    if (normalized !== null) normalized[i] = d.normalized ?? null;
  }
  const outcome: ModelOutcome = { version: s.version, status: result.status, latencyMs: result.latencyMs, score: null, decision: null, error: null };
  if (normalized !== null) outcome.normalized = normalized;
  outcome.scores = scores;
  outcome.decisions = decisions;
  return outcome;
}
