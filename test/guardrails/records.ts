/** Synthetic pair records for guardrail tests. */
import type { ModelOutcome, OutcomeErrorKind, PairRecord } from '../../src/records/types.js';

export interface OutcomeSpec {
  latencyMs?: number | null;
  score?: number | null;
  decision?: boolean | null;
  error?: OutcomeErrorKind | null;
}

export function outcome(version: string, spec: OutcomeSpec = {}): ModelOutcome {
  const kind = spec.error ?? null;
  if (kind === 'skipped') return { version, status: null, latencyMs: null, score: null, decision: null, error: { kind, message: 'skipped' } };
  const score = kind ? null : spec.score ?? 0.5;
  return {
    version,
    status: kind === null ? 200 : kind === 'status' ? 500 : null,
    latencyMs: spec.latencyMs === undefined ? 10 : spec.latencyMs,
    score,
    decision: kind ? null : spec.decision ?? (score === null ? null : score >= 0.5),
    error: kind ? { kind, message: kind } : null,
  };
}

let n = 0;
export function pair(champion: OutcomeSpec = {}, challenger: OutcomeSpec = {}, extra: Partial<PairRecord> = {}): PairRecord {
  const c = outcome('v-champ', champion);
  const l = outcome('v-chall', challenger);
  return {
    requestId: `r-${++n}`,
    route: 'POST /predict',
    config: 'test',
    unit: null,
    assigned: 'random',
    bucket: 0.5,
    group: 'champion',
    served: 'champion',
    fallback: false,
    champion: c,
    challenger: l,
    agree: c.decision === null || l.decision === null ? null : c.decision === l.decision,
    fields: {},
    ...extra,
  };
}
