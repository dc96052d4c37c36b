/**
 * Everything a request needs from the config, prepared once per effective config and swapped
 * atomically: a request keeps the snapshot it started with, whatever reloads happen meanwhile.
 */
import type { Config, Role } from '../config/types.js';
import { parseUnitSource, type UnitSource } from '../assignment/unit-key.js';
import { scorePointer } from '../routing/score.js';
import { parsePointer, type Pointer } from '../util/json-pointer.js';
import type { ModelClient } from '../upstream/model-client.js';
import type { Calibration } from '../calibration/table.js';
import { createNormalizer, type Normalizer } from '../calibration/normalize.js';

export interface PreparedRoute {
  /** `METHOD /path`, as written in records and metric labels. */
  readonly name: string;
  readonly score: Pointer;
}

export interface Snapshot {
  readonly config: Config;
  readonly id: string;
  readonly routes: ReadonlyMap<string, PreparedRoute>;
  readonly unit: UnitSource;
  readonly fields: ReadonlyArray<readonly [string, Pointer]>;
  readonly redact: readonly Pointer[];
  /** The request body must be JSON (a body unit key or fields to copy): invalid JSON answers 400. */
  readonly needsJson: boolean;
  readonly thresholds: Readonly<Record<Role, number>>;
  readonly clients: Readonly<Record<Role, ModelClient>>;
  /** Raw score → calibrated score, with `calibration` configured (decisions then use it). */
  readonly normalize: Normalizer | null;
  /** Where the served model's normalized score goes in the response body. */
  readonly inject: Pointer | null;
}

export function routeKey(method: string, path: string): string {
  return method + ' ' + path;
}

export function prepareSnapshot(config: Config, id: string, clients: Record<Role, ModelClient>, calibration?: Calibration): Snapshot {
  const routes = new Map<string, PreparedRoute>();
  for (const r of config.routes) {
    const name = routeKey(r.method, r.path);
    routes.set(name, { name, score: scorePointer(r) });
  }
  const unit = parseUnitSource(config.assignment.unit);
  const fields = Object.entries(config.logging.fields).map(([k, p]) => [k, parsePointer(p)] as const);
  return {
    config,
    id,
    routes,
    unit,
    fields,
    redact: config.logging.redact.map(parsePointer),
    needsJson: unit.kind === 'body' || fields.length > 0,
    // With calibration, one threshold for both models on the normalized score (SPEC 9).
    thresholds: calibration
      ? { champion: config.decision.threshold, challenger: config.decision.threshold }
      : {
          champion: config.models.champion.threshold ?? config.decision.threshold,
          challenger: config.models.challenger.threshold ?? config.decision.threshold,
        },
    clients,
    normalize: calibration ? createNormalizer(calibration) : null,
    inject: calibration && config.calibration?.inject ? parsePointer(config.calibration.inject) : null,
  };
}
