/** What the primary and its workers say to each other over the cluster IPC channel. */
import type { Counters } from '../runtime/recorder.js';
import type { RuntimeState } from '../runtime/runtime.js';
import type { ModelOutcome, PairRecord } from '../records/types.js';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** Just what guardrails read of a pair record: [error?, champion, challenger] outcomes, compact. */
export type OutcomeView = [kind: string | null, latencyMs: number | null, decision: boolean | null, score: number | null,
  scores?: number[] | null, decisions?: boolean[] | null];
export type PairView = [rejected: 0 | 1, champion: OutcomeView, challenger: OutcomeView];

export type ToWorker =
  | { type: 'ccr:state'; state: RuntimeState }
  | { type: 'ccr:metrics'; id: number }
  | { type: 'ccr:shutdown' };

export type ToPrimary =
  | { type: 'ccr:hello' }
  | { type: 'ccr:ready'; url: string }
  | { type: 'ccr:report'; counters: Counters; pairs: PairView[] }
  | { type: 'ccr:metrics'; id: number; metrics: MetricObjectWithValues<MetricValue<string>>[] };

function view(o: ModelOutcome): OutcomeView {
  const v: OutcomeView = [o.error?.kind ?? null, o.latencyMs, o.decision, o.score];
  // A batch's instances each count in the guardrails (docs/records.md#batches).
  if (o.scores || o.decisions) v.push(o.scores ?? null, o.decisions ?? null);
  return v;
}

export function toView(r: PairRecord): PairView {
  return [r.error ? 1 : 0, view(r.champion), view(r.challenger)];
}

function outcome([kind, latencyMs, decision, score, scores, decisions]: OutcomeView): ModelOutcome {
  const o: ModelOutcome = { version: '', status: null, latencyMs, decision, score, error: kind === null ? null : { kind: kind as never, message: '' } };
  if (scores !== undefined) o.scores = scores;
  if (decisions !== undefined) o.decisions = decisions;
  return o;
}

/** A record with the fields guardrails read, rebuilt in the primary. */
export function fromView([rejected, champion, challenger]: PairView): PairRecord {
  const r = { champion: outcome(champion), challenger: outcome(challenger) } as PairRecord;
  if (rejected) r.error = { kind: 'bad_request', message: '' };
  return r;
}

export function isMessage<T extends { type: string }>(m: unknown): m is T {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('ccr:');
}
