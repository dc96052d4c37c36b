/**
 * Everything a request needs from the config, prepared once per effective config and swapped
 * atomically: a request keeps the snapshot it started with, whatever reloads happen meanwhile.
 */
import type { Config, Role } from '../config/types.js';
import { parseUnitSource, type UnitSource } from '../assignment/unit-key.js';
import { memoBucketOf, type RandomSource } from '../assignment/bucket.js';
import { unitFormatter } from '../records/pair.js';
import type { Scoring } from '../scoring/outcome.js';
import { scorePointer } from '../scoring/score.js';
import { batchReading, type BatchReading } from '../scoring/batch.js';
import { parsePointer, type Pointer } from '../util/json-pointer.js';
import type { ModelClient } from '../upstream/model-client.js';
import type { Calibration } from '../calibration/table.js';
import { createNormalizer, type Normalizer } from '../calibration/normalize.js';
import { JSON_TYPE, TEXT_TYPE } from '../http/answer.js';

export interface PreparedRoute {
  /** `METHOD /path`, as written in records and metric labels. */
  readonly name: string;
  /** How each model's answer is read on this route. */
  readonly scoring: Readonly<Record<Role, Scoring>>;
  /** A batch-aware route (a preset, or `instances`): its requests' instances are counted. */
  readonly batch: BatchReading | null;
}

export interface Snapshot {
  readonly config: Config;
  readonly id: string;
  /** Scored routes by path, then method: looked up without building a key per request. */
  readonly routes: ReadonlyMap<string, ReadonlyMap<string, PreparedRoute>>;
  readonly unit: UnitSource;
  readonly fields: ReadonlyArray<readonly [string, Pointer]>;
  readonly redact: readonly Pointer[];
  /** The request body must be JSON (a body unit key or fields to copy): invalid JSON answers 400. */
  readonly needsJson: boolean;
  /** The bucket of a unit key (docs/config.md#assignment-who-lands-in-which-group; memoized for this salt). */
  readonly bucketOf: (key: string) => number;
  /** The record's `unit` for a key, per logging.unit (undefined: omitted). */
  readonly unitFor: (key: string | null) => string | null | undefined;
  readonly clients: Readonly<Record<Role, ModelClient>>;
  /** Raw score → calibrated score, with `calibration` configured (decisions then use it). */
  readonly normalize: Normalizer | null;
  /** Where the served model's normalized score goes in the response body. */
  readonly inject: Pointer | null;
  /** The bucket of a request without a unit key (one generator per process, kept across snapshots). */
  readonly random: RandomSource;
  /** Where pass-through requests go: the champion's origin, and its URL's path as a prefix ('' for none). */
  readonly passThrough: { readonly origin: string; readonly prefix: string };
  /** `control.response`, encoded once: what the control group receives instead of the champion's answer. */
  readonly controlResponse: { readonly status: number; readonly body: Buffer; readonly contentType: string } | null;
}

export function routeKey(method: string, path: string): string {
  return method + ' ' + path;
}

export function prepareSnapshot(config: Config, id: string, clients: Record<Role, ModelClient>, random: RandomSource, calibration?: Calibration): Snapshot {
  // With calibration, one threshold for both models on the normalized score (docs/calibration.md).
  const thresholds = calibration
    ? { champion: config.decision.threshold, challenger: config.decision.threshold }
    : {
        champion: config.models.champion.threshold ?? config.decision.threshold,
        challenger: config.models.challenger.threshold ?? config.decision.threshold,
      };
  const normalize = calibration ? createNormalizer(calibration) : null;
  const routes = new Map<string, Map<string, PreparedRoute>>();
  for (const r of config.routes) {
    const name = routeKey(r.method, r.path);
    const score = scorePointer(r);
    const batch = batchReading(r);
    const scoring = (role: Role): Scoring => ({
      version: config.models[role].version, pointer: score, threshold: thresholds[role], normalize, batch, maxBytes: config.limits.responseBytes,
    });
    let byMethod = routes.get(r.path);
    if (byMethod === undefined) routes.set(r.path, (byMethod = new Map()));
    byMethod.set(r.method, { name, scoring: { champion: scoring('champion'), challenger: scoring('challenger') }, batch });
  }
  const unit = parseUnitSource(config.assignment.unit);
  const fields = Object.entries(config.logging.fields).map(([k, p]) => [k, parsePointer(p)] as const);
  const champion = new URL(config.models.champion.url);
  return {
    config,
    id,
    routes,
    unit,
    fields,
    redact: config.logging.redact.map(parsePointer),
    needsJson: unit.kind === 'body' || fields.length > 0,
    bucketOf: memoBucketOf(config.assignment.salt),
    unitFor: unitFormatter(config.logging.unit, config.assignment.salt),
    clients,
    normalize,
    inject: calibration && config.calibration?.inject ? parsePointer(config.calibration.inject) : null,
    random,
    passThrough: { origin: champion.origin, prefix: champion.pathname === '/' ? '' : champion.pathname.replace(/\/$/, '') },
    controlResponse: controlResponseOf(config),
  };
}

function controlResponseOf(config: Config): Snapshot['controlResponse'] {
  const r = config.control.response;
  if (r === undefined) return null;
  return typeof r.body === 'string'
    ? { status: r.status, body: Buffer.from(r.body), contentType: TEXT_TYPE }
    : { status: r.status, body: Buffer.from(JSON.stringify(r.body ?? null)), contentType: JSON_TYPE };
}
