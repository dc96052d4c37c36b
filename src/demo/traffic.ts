/**
 * The demo's labelled traffic: the seeded transaction stream (data.ts) sent through ccrouter with
 * bounded concurrency. The ground truth stays on the client side and is returned keyed by the
 * request id ccrouter assigned, to be posted as outcomes once the traffic is done, the way real
 * labels arrive after the fact.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { transactions } from './data.js';

// undici's 300 s defaults would turn a stuck proxy into a stuck demo.
const TIMEOUT_MS = 30_000;

export interface TrafficOptions {
  /** ccrouter's public base URL; a path in it is a prefix. */
  url: string;
  /** Request path (default `/predict`). */
  path?: string;
  requests: number;
  /** Requests in flight at most (default 16). */
  concurrency?: number;
  /** Seed of the transaction stream (default 1). */
  seed?: number;
  /** Header carrying the user id, the assignment unit (default `x-user-id`). */
  unitHeader?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface TrafficResult {
  sent: number;
  /** Answered with a 2xx. */
  ok: number;
  /** Answered with another status, or not answered at all. */
  failed: number;
  /** Answers per `x-ccrouter-group` (`none` when the header is absent). */
  byGroup: Record<string, number>;
  /** Ground truth for every answer that carried an `x-request-id`, in completion order. */
  outcomes: Array<{ requestId: string; label: 0 | 1 }>;
  /** Time to the end of each answer's body, in completion order (unanswered requests excluded). */
  latencyMs: number[];
  /** Wall-clock epoch ms when the first request went out and when the last one ended. */
  startedAt: number;
  endedAt: number;
}

const BUCKET_STEPS_MS = [100, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 300_000, 900_000, 3_600_000];

/**
 * A timeline bucket for a run of `durationMs`: the smallest round step giving at most 20 buckets,
 * so the report's timeline (docs/report.md, "timeline") shows the run's course, not one point.
 */
export function timelineBucketMs(durationMs: number): number {
  return BUCKET_STEPS_MS.find((b) => durationMs / b <= 20) ?? BUCKET_STEPS_MS[BUCKET_STEPS_MS.length - 1]!;
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

function checkCount(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new TypeError(`sendTraffic: ${name} must be an integer >= ${min}, got ${v}`);
}

/**
 * Send `requests` labelled transactions to `url + path`, at most `concurrency` at a time.
 * A failed request is counted in `failed`, never thrown.
 */
export async function sendTraffic(opts: TrafficOptions): Promise<TrafficResult> {
  const concurrency = opts.concurrency ?? 16;
  checkCount('requests', opts.requests, 0);
  checkCount('concurrency', concurrency, 1);
  const base = new URL(opts.url);
  const path = base.pathname.replace(/\/$/, '') + (opts.path ?? '/predict');
  const unitHeader = opts.unitHeader ?? 'x-user-id';
  const total = opts.requests;
  const result: TrafficResult = { sent: 0, ok: 0, failed: 0, byGroup: {}, outcomes: [], latencyMs: [], startedAt: Date.now(), endedAt: 0 };
  const stream = transactions(opts.seed ?? 1, total);
  const pool = new Pool(base.origin, { connections: concurrency, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
  let done = 0;
  let stopped: { error: unknown } | undefined;

  const worker = async (): Promise<void> => {
    for (let next = stream.next(); !next.done && !stopped; next = stream.next()) {
      const { body, unit, label } = next.value;
      result.sent++;
      const start = performance.now();
      try {
        const res = await pool.request({
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json', [unitHeader]: unit },
          body: JSON.stringify(body),
        });
        // Always drain: an unread body holds its connection.
        await res.body.dump();
        result.latencyMs.push(performance.now() - start);
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        if (ok) result.ok++;
        else result.failed++;
        const group = first(res.headers['x-ccrouter-group']) ?? 'none';
        result.byGroup[group] = (result.byGroup[group] ?? 0) + 1;
        const requestId = first(res.headers['x-request-id']);
        if (requestId) result.outcomes.push({ requestId, label });
      } catch {
        result.failed++;
      }
      try {
        opts.onProgress?.(++done, total);
      } catch (error) {
        // The caller's callback failed: stop sending and report it once the pool is closed.
        stopped ??= { error };
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(total, 1)) }, worker));
  } finally {
    result.endedAt = Date.now();
    await pool.close();
  }
  if (stopped) throw stopped.error;
  return result;
}
