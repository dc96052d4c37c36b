/** Record shapes (docs/records.md). */
import type { Group, Role } from '../config/types.js';

export type OutcomeErrorKind = 'timeout' | 'connect' | 'status' | 'parse' | 'too_large' | 'skipped' | 'canceled';
export type RequestErrorKind = 'bad_request' | 'too_large' | 'client_abort' | 'client_timeout' | 'internal_error';

export interface ModelOutcome {
  version: string;
  status: number | null;
  latencyMs: number | null;
  score: number | null;
  decision: boolean | null;
  error: { kind: OutcomeErrorKind; message: string } | null;
  /** Present with calibration. */
  normalized?: number | null;
}

export interface PairRecord {
  requestId: string;
  route: string;
  config: string;
  unit?: string | null;
  assigned: 'key' | 'random' | null;
  bucket: number | null;
  group: Group | null;
  served: Role | null;
  fallback: boolean;
  champion: ModelOutcome;
  challenger: ModelOutcome;
  agree: boolean | null;
  fields: Record<string, unknown>;
  request?: unknown;
  response?: unknown;
  error?: { kind: RequestErrorKind; message: string };
}

export interface OutcomeRecord {
  requestId?: string;
  unit?: string;
  label: 0 | 1;
}

export type EventType =
  | 'start' | 'config_loaded' | 'config_rejected' | 'bypass' | 'rollback'
  | 'guardrail_tripped' | 'ramp_step' | 'shutdown';

export function skipped(version: string, message: string, calibrated = false): ModelOutcome {
  const o: ModelOutcome = { version, status: null, latencyMs: null, score: null, decision: null, error: { kind: 'skipped', message } };
  if (calibrated) o.normalized = null;
  return o;
}
