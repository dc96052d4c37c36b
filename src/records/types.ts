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
  /**
   * Present with calibration: the normalized score, or for a batch one per instance (null when the
   * version has no table or no score was read).
   */
  normalized?: number | null | Array<number | null>;
  /** A batch of more than one instance (docs/records.md#batches): one score and decision per instance, in order. */
  scores?: number[] | null;
  decisions?: boolean[] | null;
}

export interface PairRecord {
  requestId: string;
  route: string;
  config: string;
  /** With `fleet`: this instance's name. */
  instance?: string;
  unit?: string | null;
  assigned: 'key' | 'random' | null;
  bucket: number | null;
  group: Group | null;
  served: Role | null;
  fallback: boolean;
  champion: ModelOutcome;
  challenger: ModelOutcome;
  /** Decisions equal / both known; for a batch the share of instances whose decisions are equal. */
  agree: boolean | number | null;
  /** The number of instances of a batch request (absent for a single instance). */
  instances?: number;
  fields: Record<string, unknown>;
  request?: unknown;
  response?: unknown;
  error?: { kind: RequestErrorKind; message: string };
}

export interface OutcomeRecord {
  requestId?: string;
  unit?: string;
  /** The 0-based index of the instance labelled, in a batch request (only with requestId). */
  instance?: number;
  label: 0 | 1;
}

export type EventType =
  | 'start' | 'config_loaded' | 'config_rejected' | 'bypass' | 'rollback'
  | 'guardrail_tripped' | 'ramp_step' | 'shutdown' | 'fleet_connected' | 'fleet_disconnected';

export function skipped(version: string, message: string, calibrated = false): ModelOutcome {
  const o: ModelOutcome = { version, status: null, latencyMs: null, score: null, decision: null, error: { kind: 'skipped', message } };
  if (calibrated) o.normalized = null;
  return o;
}
