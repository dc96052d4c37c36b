/**
 * Turning a model call's result into a model outcome of the pair record (status, score, decision,
 * error kind; see docs/records.md#model-outcome).
 */
import type { Normalizer } from '../calibration/normalize.js';
import type { ModelOutcome } from '../records/types.js';
import type { CallOk, CallResult } from '../upstream/model-client.js';
import type { Pointer } from '../util/json-pointer.js';
import { decodeBody, needsDecoding, readScore } from './score.js';

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
}

/**
 * The outcome of one call. Synchronous unless the body is compressed (decoding is async): the
 * common case costs no promise.
 */
export function evaluate(result: CallResult, s: Scoring): Evaluated | Promise<Evaluated> {
  if (result.ok && result.status < 400 && result.body.length > 0) {
    const encoding = result.contentEncoding;
    if (needsDecoding(encoding)) {
      return decodeBody(result.body, encoding).then(
        (body) => scored(result, body, s),
        (err: Error) => failed(result, s, 'parse', `cannot decode ${encoding} body: ${err.message}`),
      );
    }
  }
  return result.ok && result.status < 400 ? scored(result, result.body, s) : unscored(result, s);
}

function unscored(result: CallResult, s: Scoring): Evaluated {
  if (!result.ok) return failed(result, s, result.kind, result.message);
  return failed(result, s, 'status', `model answered ${result.status}`);
}

/**
 * The outcome of a call whose answer ccrouter failed to evaluate (a fault of its own, counted
 * elsewhere): the call happened, its score is unknown.
 */
export function notEvaluated(result: CallResult, s: Scoring, err: unknown): Evaluated {
  return failed(result, s, 'parse', `answer not evaluated: ${err instanceof Error ? err.message : String(err)}`);
}

function failed(result: CallResult, s: Scoring, kind: NonNullable<ModelOutcome['error']>['kind'], message: string): Evaluated {
  const outcome: ModelOutcome = { version: s.version, status: result.ok ? result.status : null, latencyMs: result.latencyMs, score: null, decision: null, error: { kind, message } };
  if (s.normalize !== null) outcome.normalized = null;
  return { outcome, result };
}

function scored(result: CallOk, body: Buffer, s: Scoring): Evaluated {
  const read = readScore(body, s.pointer);
  if (!read.ok) return failed(result, s, 'parse', read.message);
  const score = read.score;
  const outcome: ModelOutcome = { version: s.version, status: result.status, latencyMs: result.latencyMs, score, decision: score >= s.threshold, error: null };
  if (s.normalize !== null) {
    const normalized = s.normalize(s.version, score);
    outcome.normalized = normalized;
    if (normalized !== null) outcome.decision = normalized >= s.threshold;
  }
  return { outcome, result, json: read.json };
}
