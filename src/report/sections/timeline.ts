/**
 * `timeline` (docs/report.md, "timeline"): per time bucket, the series a model in maintenance mode is
 * alerted on, for both models; and the events (config loads, ramp steps, rollbacks, guardrail trips,
 * the kill switch) the HTML charts mark on the same time axis.
 */
import { CCR_ERR_USAGE } from '../../errors.js';
import { percentilesBy } from '../percentiles.js';
import { count, num, type Queries, type Row } from '../sql.js';
import { withLabelledCount } from '../tables.js';
import type { Timeline, TimelineModel } from '../types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The default bucket is the smallest of these giving at most {@link DEFAULT_MAX_BUCKETS} buckets. */
export const BUCKET_STEPS: readonly number[] = [MINUTE, 5 * MINUTE, HOUR, DAY];
export const DEFAULT_MAX_BUCKETS = 200;
/** An explicit `--bucket` may give this many buckets over the window at most: the rows stay small. */
export const MAX_BUCKETS = 10_000;

/** Buckets from the one holding `from` to the one holding `to`, both included. */
export function bucketCount(from: number, to: number, bucketMs: number): number {
  return Math.floor(to / bucketMs) - Math.floor(from / bucketMs) + 1;
}

/**
 * The default bucket for a window: the smallest of 1 min, 5 min, 1 h, 1 d giving at most 200
 * buckets; past 200 days, the smallest whole number of days that does.
 */
export function defaultBucket(from: number | null, to: number | null): number {
  if (from === null || to === null) return MINUTE;
  for (const b of BUCKET_STEPS) if (bucketCount(from, to, b) <= DEFAULT_MAX_BUCKETS) return b;
  let days = Math.ceil((to - from) / DAY / DEFAULT_MAX_BUCKETS);
  while (bucketCount(from, to, days * DAY) > DEFAULT_MAX_BUCKETS) days++;
  return days * DAY;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: MINUTE, min: MINUTE, h: HOUR, d: DAY, w: 7 * DAY };
const BUCKET_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d|w)$/i;

/** `--bucket`: `<n><unit>` with unit ms, s, m (or min), h, d, w; a whole number of milliseconds ≥ 1. */
export function parseBucket(value: string): number {
  const m = BUCKET_RE.exec(value.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]! : Number.NaN;
  // 0.1h is 360000.00000000006 in floating point: snap such noise.
  const r = Math.round(ms);
  if (!(Math.abs(ms - r) < 1e-6 && r >= 1 && r <= 366 * DAY)) {
    throw new CCR_ERR_USAGE(`--bucket: must be a duration such as 30s, 5m, 1h or 1d (whole milliseconds, at most 366d), got ${JSON.stringify(value)}`);
  }
  return r;
}

/** A bucket length as people write it: `1 h`, `5 min`, `30 s`, `1500 ms`. */
export function formatBucket(ms: number): string {
  for (const [unit, size] of [['d', DAY], ['h', HOUR], ['min', MINUTE], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  }
  return `${ms} ms`;
}

const modelColumns = (p: 'c' | 'h') => `
  count(*) FILTER (WHERE ${p}_called) AS ${p}_calls,
  count(*) FILTER (WHERE ${p}_called AND ${p}_err) AS ${p}_errs,
  count(*) FILTER (WHERE ${p}_dec) AS ${p}_true,
  count(${p}_dec) AS ${p}_decided`;

const SCORE_PS = [0.5, 0.9, 0.95];

/** A model's series in one bucket; `lat` and `score` its percentiles there (docs/report.md, "timeline"). */
function modelOf(r: Row, p: 'c' | 'h', lat: readonly (number | null)[] | undefined, score: readonly (number | null)[] | undefined): TimelineModel {
  const calls = count(r[`${p}_calls`]);
  const decided = count(r[`${p}_decided`]);
  return {
    calls,
    errorRate: calls > 0 ? count(r[`${p}_errs`]) / calls : null,
    latencyP99: lat?.[0] ?? null,
    scoreP50: score?.[0] ?? null,
    scoreP90: score?.[1] ?? null,
    scoreP95: score?.[2] ?? null,
    decisionRate: decided > 0 ? count(r[`${p}_true`]) / decided : null,
  };
}

/**
 * The timeline over the window [from, to] (records without a time have no bucket). `bucketMs` is
 * `--bucket`, else the default for the window; an explicit bucket giving more than MAX_BUCKETS
 * buckets is a usage error naming the flag. `heldValues`: see percentiles.ts.
 */
export async function timelineSection(db: Queries, from: number | null, to: number | null, bucketMs?: number,
  heldValues = 0): Promise<Timeline> {
  if (bucketMs !== undefined && !(Number.isSafeInteger(bucketMs) && bucketMs >= 1)) {
    throw new CCR_ERR_USAGE(`--bucket: must be a whole number of milliseconds >= 1, got ${String(bucketMs)}`);
  }
  const b = bucketMs ?? defaultBucket(from, to);
  if (from === null || to === null) return { bucketMs: b, rows: [] };
  const n = bucketCount(from, to, b);
  if (n > MAX_BUCKETS) {
    throw new CCR_ERR_USAGE(`--bucket ${formatBucket(b)}: the window (${formatBucket(Math.max(1, Math.round(to - from)))}) ` +
      `would need ${n} buckets, at most ${MAX_BUCKETS}; choose a longer bucket`);
  }
  // records count requests (a batch once, tables.ts `call`); the rest counts observations, as elsewhere.
  const bucket = 'floor(time / $1) * $1';
  const per = (value: string, ps: readonly number[], where = 'time IS NOT NULL') =>
    percentilesBy(db, { from: 'rec', key: bucket, value, where }, ps, [b], heldValues);
  const [rows, cLat, hLat, cScore, hScore] = await Promise.all([
    db.rows(withLabelledCount(`SELECT ${bucket} AS start, count(*) FILTER (WHERE call) AS records,
        ${modelColumns('c')}, ${modelColumns('h')}
      FROM rec WHERE time IS NOT NULL GROUP BY ALL`, 'start', bucket), [b]),
    per('c_lat', [0.99], 'time IS NOT NULL AND c_called'),
    per('h_lat', [0.99], 'time IS NOT NULL AND h_called'),
    per('c_score', SCORE_PS),
    per('h_score', SCORE_PS),
  ]);
  return {
    bucketMs: b,
    rows: rows.map((r) => ({
      start: num(r.start)!,
      records: count(r.records),
      labelled: count(r.labelled),
      champion: modelOf(r, 'c', cLat.get(r.start), cScore.get(r.start)),
      challenger: modelOf(r, 'h', hLat.get(r.start), hScore.get(r.start)),
    })),
  };
}

/** Event types marked on the timeline charts. */
export const MARKED_EVENTS = ['config_loaded', 'ramp_step', 'rollback', 'guardrail_tripped', 'bypass'] as const;
export type MarkedEvent = (typeof MARKED_EVENTS)[number];

/** A marked event: its time, type, the effective config id after it, and what it did in words. */
export interface TimelineEvent {
  t: number;
  type: MarkedEvent;
  config: string | null;
  detail: string;
}

/** At most this many events are marked (the first ones in the window): a flapping switch must not flood the page. */
export const MAX_MARKED_EVENTS = 200;

const fraction = (v: unknown) => {
  const x = num(v);
  return x === null ? '?' : `${Number((x * 100).toPrecision(4))}%`;
};

function detailOf(r: Row): string {
  switch (r.type as MarkedEvent) {
    case 'ramp_step':
      return `challenger ${fraction(r.ramp_from)} → ${fraction(r.ramp_to)}`;
    case 'rollback':
      return `challenger to 0${typeof r.source === 'string' ? ` (${r.source})` : ''}`;
    case 'guardrail_tripped':
      return `${typeof r.rule === 'string' ? r.rule : 'guardrail'}${num(r.value) !== null ? ` = ${num(r.value)}` : ''}` +
        `${num(r.lim) !== null ? ` (limit ${num(r.lim)})` : ''}`;
    case 'bypass':
      return r.bypass_on === true ? 'kill switch on' : r.bypass_on === false ? 'kill switch off' : 'kill switch';
    default:
      return `challenger ${fraction(r.challenger)}, control ${fraction(r.control)}`;
  }
}

/** The events of the marked types within [from, to], in file order, at most {@link MAX_MARKED_EVENTS}. */
export async function timelineEvents(db: Queries, from: number | null, to: number | null): Promise<{ events: TimelineEvent[]; omitted: number }> {
  if (from === null || to === null) return { events: [], omitted: 0 };
  const where = `(msg IS NULL OR msg = 'event') AND list_contains($1, type) AND time BETWEEN $2 AND $3`;
  const [rows, total] = await Promise.all([
    db.rows(`SELECT time, type, config, control, challenger, rule, source, bypass_on, ramp_from, ramp_to, value, lim
      FROM events WHERE ${where} ORDER BY time, batch, rowid LIMIT ${MAX_MARKED_EVENTS}`, [MARKED_EVENTS, from, to]),
    db.one(`SELECT count(*) AS n FROM events WHERE ${where}`, [MARKED_EVENTS, from, to]),
  ]);
  const events = rows.map((r) => ({
    t: num(r.time)!,
    type: r.type as MarkedEvent,
    config: typeof r.config === 'string' ? r.config : null,
    detail: detailOf(r),
  }));
  return { events, omitted: count(total.n) - events.length };
}
