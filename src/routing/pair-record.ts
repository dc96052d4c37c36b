/**
 * The one place a pair record is built (docs/records.md#pair-record), from what an Exchange learned
 * about its request: served, refused, or failed on the way.
 */
import type { Group, Role } from '../config/types.js';
import { bodyForRecord, fieldsOf } from '../records/pair.js';
import { skipped, type ModelOutcome, type PairRecord, type RequestErrorKind } from '../records/types.js';
import type { PreparedRoute, Snapshot } from '../runtime/snapshot.js';
import type { RequestBatch } from '../scoring/batch.js';
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
  /** A batch-aware route's count of the request's instances (null: one, or not counted). */
  batch: RequestBatch | null;
}

export function newFacts(): PairFacts {
  return { body: EMPTY, json: undefined, key: null, bucket: 0, group: null, answerRole: 'champion', fallback: false, champion: null, challenger: null, skip: null, error: null, sent: null, batch: null };
}

/**
 * The record of `f`. `full` false leaves out what is built from the request's data (fields, bodies):
 * the fallback when building those failed, so that the request is recorded all the same.
 */
export function pairRecord(snap: Snapshot, route: PreparedRoute, requestId: string, f: PairFacts, full: boolean): PairRecord {
  const cfg = snap.config;
  const why = f.skip ?? 'not called';
  const batch = f.batch !== null && 'n' in f.batch && f.batch.n > 1 ? f.batch.n : null;
  const champion = f.champion ?? skippedOf(cfg.models.champion.version, why, snap.normalize !== null, batch);
  const challenger = f.challenger ?? skippedOf(cfg.models.challenger.version, why, snap.normalize !== null, batch);
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
    agree: agreement(champion, challenger),
    fields: fieldsOf(full ? f.json : undefined, snap.fields),
  };
  if (cfg.fleet !== undefined) record.instance = cfg.fleet.instance;
  // Written only for more than one instance: a single-instance request is recorded as it always was.
  if (batch !== null) record.instances = batch;
  const unit = snap.unitFor(f.key);
  if (unit !== undefined) record.unit = unit;
  if (cfg.logging.bodies) {
    record.request = full ? bodyForRecord(f.body, f.json, snap.redact) : null;
    record.response = full && f.sent !== null ? bodyForRecord(f.sent, undefined, snap.redact) : null;
  }
  if (f.error !== null) record.error = f.error;
  return record;
}

/** A model not called; in a batch record, its per-instance arrays are null like its score. */
function skippedOf(version: string, why: string, calibrated: boolean, batch: number | null): ModelOutcome {
  const o = skipped(version, why, calibrated);
  if (batch !== null) {
    o.scores = null;
    o.decisions = null;
  }
  return o;
}

/** `agree`: equal decisions, or for a batch the share of instances whose decisions are equal. */
function agreement(c: ModelOutcome, h: ModelOutcome): boolean | number | null {
  if (c.decision !== null && h.decision !== null) return c.decision === h.decision;
  const cd = c.decisions;
  const hd = h.decisions;
  if (!cd || !hd || cd.length !== hd.length || cd.length === 0) return null;
  let equal = 0;
  for (let i = 0; i < cd.length; i++) if (cd[i] === hd[i]) equal++;
  return equal / cd.length;
}
