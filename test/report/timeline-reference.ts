/**
 * A second, plain implementation of the timeline (docs/report.md, "timeline") over in-memory records:
 * a loop per record into a Map of buckets, percentiles by sorting. Shares nothing with the SQL.
 */
import type { Timeline, TimelineModel } from '../../src/report/types.js';

type Obj = Record<string, any>;

const within = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= max;

/** Linear interpolation between closest ranks (numpy's default), written out. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const rank = (s.length - 1) * p;
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (rank - lo) * (s[hi]! - s[lo]!);
}

const MINUTE = 60_000;
/** The default bucket, by counting buckets one by one. */
export function referenceBucket(from: number, to: number): number {
  for (const b of [MINUTE, 5 * MINUTE, 60 * MINUTE, 1440 * MINUTE]) {
    let n = 0;
    for (let s = Math.floor(from / b) * b; s <= to; s += b) n++;
    if (n <= 200) return b;
  }
  for (let days = 2; ; days++) {
    const b = days * 1440 * MINUTE;
    if (Math.floor(to / b) - Math.floor(from / b) + 1 <= 200) return b;
  }
}

/**
 * `recs`: the window's records (rejected ones already left out); `labelOf` a record's label or null.
 */
export function referenceTimeline(recs: Obj[], labelOf: (p: Obj) => 0 | 1 | null, bucketMs?: number): Timeline {
  const timed = recs.filter((p) => within(p.time, 8.64e15));
  const times = timed.map((p) => p.time as number);
  const b = bucketMs ?? (times.length ? referenceBucket(Math.min(...times), Math.max(...times)) : MINUTE);
  const buckets = new Map<number, Obj[]>();
  for (const p of timed) {
    const start = Math.floor(p.time / b) * b;
    if (!buckets.has(start)) buckets.set(start, []);
    buckets.get(start)!.push(p);
  }
  const model = (ps: Obj[], role: 'champion' | 'challenger'): TimelineModel => {
    const outs = ps.map((p) => p[role]).filter((o) => o != null);
    const calls = outs.filter((o) => o.error?.kind !== 'skipped');
    const errors = calls.filter((o) => o.error != null);
    const lat = calls.map((o) => o.latencyMs).filter((v) => within(v, 1e15));
    const scores = outs.map((o) => o.score).filter((v) => within(v, 1e15));
    const decided = outs.filter((o) => typeof o.decision === 'boolean');
    return {
      calls: calls.length,
      errorRate: calls.length ? errors.length / calls.length : null,
      latencyP99: percentile(lat, 0.99),
      scoreP50: percentile(scores, 0.5),
      scoreP90: percentile(scores, 0.9),
      scoreP95: percentile(scores, 0.95),
      decisionRate: decided.length ? decided.filter((o) => o.decision === true).length / decided.length : null,
    };
  };
  return {
    bucketMs: b,
    rows: [...buckets.keys()].sort((x, y) => x - y).map((start) => {
      const ps = buckets.get(start)!;
      return {
        start,
        records: ps.length,
        labelled: ps.filter((p) => labelOf(p) !== null).length,
        champion: model(ps, 'champion'),
        challenger: model(ps, 'challenger'),
      };
    }),
  };
}
