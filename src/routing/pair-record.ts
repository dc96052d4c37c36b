/**
 * The one place a pair record is built (docs/records.md#pair-record), from what an Exchange learned
 * about its request: served, refused, or failed on the way.
 */
import type { Group, Role } from '../config/types.js';
import { bodyForRecord, fieldsOf } from '../records/pair.js';
import { skipped, type ModelOutcome, type PairRecord, type RequestErrorKind } from '../records/types.js';
import type { PreparedRoute, Snapshot } from '../runtime/snapshot.js';
import { EMPTY } from '../util/chunks.js';

/** What a request's record says, filled in as the Exchange goes. */
export interface PairFacts {
  body: Buffer;
  json: unknown;
  key: string | null;
  bucket: number;
  /** Null until assigned (a refused request never is). */
  group: Group | null;
  /** Whose answer the caller got (the champion after a fallback). */
  answerRole: Role;
  fallback: boolean;
  /** Each model's outcome once known (only the outcome: its body and headers are let go). */
  champion: ModelOutcome | null;
  challenger: ModelOutcome | null;
  /** Why a model has no outcome (shadow skipped, request refused). */
  skip: string | null;
  error: { kind: RequestErrorKind; message: string } | null;
  /** The body sent to the caller (kept with `logging.bodies`). */
  sent: Buffer | null;
}

export function newFacts(): PairFacts {
  return { body: EMPTY, json: undefined, key: null, bucket: 0, group: null, answerRole: 'champion', fallback: false, champion: null, challenger: null, skip: null, error: null, sent: null };
}

/**
 * The record of `f`. `full` false leaves out what is built from the request's data (fields, bodies):
 * the fallback when building those failed, so that the request is recorded all the same.
 */
export function pairRecord(snap: Snapshot, route: PreparedRoute, requestId: string, f: PairFacts, full: boolean): PairRecord {
  const cfg = snap.config;
  const why = f.skip ?? 'not called';
  const champion = f.champion ?? skipped(cfg.models.champion.version, why, snap.normalize !== null);
  const challenger = f.challenger ?? skipped(cfg.models.challenger.version, why, snap.normalize !== null);
  const assigned = f.group !== null;
  const record: PairRecord = {
    requestId,
    route: route.name,
    config: snap.id,
    assigned: !assigned ? null : f.key === null ? 'random' : 'key',
    bucket: assigned ? f.bucket : null,
    group: f.group,
    served: assigned ? f.answerRole : null,
    fallback: f.fallback,
    champion,
    challenger,
    agree: champion.decision !== null && challenger.decision !== null ? champion.decision === challenger.decision : null,
    fields: fieldsOf(full ? f.json : undefined, snap.fields),
  };
  if (cfg.fleet !== undefined) record.instance = cfg.fleet.instance;
  const unit = snap.unitFor(f.key);
  if (unit !== undefined) record.unit = unit;
  if (cfg.logging.bodies) {
    record.request = full ? bodyForRecord(f.body, f.json, snap.redact) : null;
    record.response = full && f.sent !== null ? bodyForRecord(f.sent, undefined, snap.redact) : null;
  }
  if (f.error !== null) record.error = f.error;
  return record;
}
