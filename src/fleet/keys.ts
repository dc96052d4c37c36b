/**
 * The fleet's keys and values in Redis (docs/operations.md, "Fleet: levers shared over Redis"): the
 * names under `ccrouter:<fleet.name>:`, and each value's JSON, checked field by field when read. A
 * value that fails its check is never applied: the caller counts it and keeps what it knew.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../config/id.js';
import { RESTART_KEYS } from '../config/reload.js';
import type { Config } from '../config/types.js';

/**
 * The id the fleet keys a file config's rollback and ramp by: the config id of what a reload applies,
 * the restart-only keys left out. Instances of one fleet may differ in those (their ports on a shared
 * host, `logging.dir` per instance) and still serve the same file config.
 */
export function scopeId(config: Config): string {
  const scoped: Record<string, unknown> = { ...config };
  for (const key of RESTART_KEYS) {
    if (key === 'logging.dir') scoped.logging = { ...config.logging, dir: undefined };
    else scoped[key] = undefined;
  }
  return createHash('sha256').update(canonicalJson(scoped)).digest('hex').slice(0, 12);
}

/** The kill switch: the latest change wins, by `at` then `seq`. */
export interface BypassValue {
  readonly on: boolean;
  /** When the change was made (epoch ms, never below the last change seen + 1). */
  readonly at: number;
  readonly origin: string;
  /** The origin's own change counter: orders two changes of one instance in the same ms. */
  readonly seq: number;
}

/** A rollback of one file config (kept until the fleet's instances load another). */
export interface RollbackValue {
  readonly at: number;
  readonly origin: string;
  /** The guardrail rule that tripped, or null for `POST /rollback`. */
  readonly rule: string | null;
}

/** The ramp schedule of one file config (guardrails/ramp.ts `RampOrigin`). */
export interface RampValue {
  readonly start: number;
  readonly held: number;
  readonly origin: string;
}

export interface FleetKeys {
  readonly prefix: string;
  readonly bypass: string;
  readonly version: string;
  readonly channel: string;
  rollback(fileId: string): string;
  ramp(fileId: string): string;
}

export function fleetKeys(name: string): FleetKeys {
  const prefix = `ccrouter:${name}:`;
  return {
    prefix,
    bypass: prefix + 'bypass',
    version: prefix + 'version',
    channel: prefix + 'changes',
    rollback: (fileId) => prefix + 'rollback:' + fileId,
    ramp: (fileId) => prefix + 'ramp:' + fileId,
  };
}

/** Values longer than this are not even parsed. */
const MAX_VALUE_CHARS = 4096;
const MAX_NAME_CHARS = 253;

export type Parsed<T> = { ok: true; value: T | null } | { ok: false };

/** null (absent) is fine; anything else must be a JSON object whose members pass `check`. */
function parse<T>(raw: unknown, check: (o: Record<string, unknown>) => T | null): Parsed<T> {
  if (raw === null || raw === undefined) return { ok: true, value: null };
  if (typeof raw !== 'string' || raw.length > MAX_VALUE_CHARS) return { ok: false };
  let o: unknown;
  try {
    o = JSON.parse(raw);
  } catch {
    return { ok: false };
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return { ok: false };
  const value = check(o as Record<string, unknown>);
  return value === null ? { ok: false } : { ok: true, value };
}

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME_CHARS;
}

export function parseBypass(raw: unknown): Parsed<BypassValue> {
  return parse(raw, (o) =>
    typeof o.on === 'boolean' && isTime(o.at) && isName(o.origin) && isTime(o.seq)
      ? { on: o.on, at: o.at, origin: o.origin, seq: o.seq }
      : null);
}

export function parseRollback(raw: unknown): Parsed<RollbackValue> {
  return parse(raw, (o) =>
    isTime(o.at) && isName(o.origin) && (o.rule === null || isName(o.rule))
      ? { at: o.at, origin: o.origin, rule: o.rule as string | null }
      : null);
}

export function parseRamp(raw: unknown): Parsed<RampValue> {
  return parse(raw, (o) =>
    isTime(o.start) && isTime(o.held) && isName(o.origin) ? { start: o.start, held: o.held, origin: o.origin } : null);
}

/** The version counter: a non-negative integer, or absent (0). */
export function parseVersion(raw: unknown): Parsed<number> {
  if (raw === null || raw === undefined) return { ok: true, value: 0 };
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) return { ok: false };
  return { ok: true, value: Number(raw) };
}

/**
 * True when kill-switch change `a` came after `b`: by `at`, then `seq`; a tie is not later (Redis keeps
 * the value stored first). The same rule as the `SET_BYPASS` script, so the two never disagree.
 */
export function isLater(a: BypassValue, b: BypassValue | null): boolean {
  if (b === null) return true;
  return a.at > b.at || (a.at === b.at && a.seq > b.seq);
}
