/** Turning a model call's result into the outcome of SPEC 6 (status, score, decision, error kind). */
import type { Normalizer } from '../calibration/normalize.js';
import type { ModelOutcome } from '../records/types.js';
import type { CallResult } from '../upstream/model-client.js';
import type { Pointer } from '../util/json-pointer.js';
import { decodeBody, readScore } from './score.js';

export interface Evaluated {
  outcome: ModelOutcome;
  /** The parsed response body when it was JSON with a score (for control patches, injection). */
  json?: unknown;
}

/**
 * `normalize` (calibration): the decision compares the normalized score with `threshold`, and the
 * outcome carries `normalized` (null without a score).
 */
export async function evaluate(result: CallResult, version: string, pointer: Pointer, threshold: number, normalize: Normalizer | null): Promise<Evaluated> {
  const e = await evaluateRaw(result, version, pointer, threshold);
  if (normalize === null) return e;
  const o = e.outcome;
  o.normalized = o.score === null ? null : normalize(version, o.score);
  if (o.normalized !== null) o.decision = o.normalized >= threshold;
  return e;
}

async function evaluateRaw(result: CallResult, version: string, pointer: Pointer, threshold: number): Promise<Evaluated> {
  if (!result.ok) {
    return { outcome: { version, status: null, latencyMs: result.latencyMs, score: null, decision: null, error: { kind: result.kind, message: result.message } } };
  }
  const { status, latencyMs } = result;
  if (status >= 400) {
    return { outcome: { version, status, latencyMs, score: null, decision: null, error: { kind: 'status', message: `model answered ${status}` } } };
  }
  const encoding = result.headers['content-encoding'];
  let body = result.body;
  if (encoding !== undefined) {
    try {
      body = await decodeBody(body, Array.isArray(encoding) ? encoding[0] : encoding);
    } catch (err) {
      return { outcome: { version, status, latencyMs, score: null, decision: null, error: { kind: 'parse', message: `cannot decode ${String(encoding)} body: ${(err as Error).message}` } } };
    }
  }
  const read = readScore(body, pointer);
  if (!read.ok) {
    return { outcome: { version, status, latencyMs, score: null, decision: null, error: { kind: 'parse', message: read.message } } };
  }
  return { outcome: { version, status, latencyMs, score: read.score, decision: read.score >= threshold, error: null }, json: read.json };
}
