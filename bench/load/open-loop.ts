/**
 * Open-loop load: requests are scheduled at a fixed rate whatever the answers do, and each latency
 * is counted from the request's *scheduled* send time (so a stalled proxy cannot hide its queue:
 * no coordinated omission). Sends go through one undici Pool.
 *
 * As a command (prints one JSON result):
 *   node --import tsx bench/load/open-loop.ts --url http://127.0.0.1:PORT --rate 1000 --duration 3 [--tag t]
 * As a long-lived child of the harness (forked with an IPC channel): one run per `run` message.
 *
 * Requests: POST /predict with a small JSON body, `x-user-id` cycling over 1 000 users and
 * `x-request-id` `<tag>-<n>` (so the proxy's records can be told apart per measurement).
 * Node's timers have millisecond granularity: the generator's own lag (`sendLagMs`) is reported with the result
 * and is the same for every peer.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { quantileSorted } from '../lib/stats.js';

export const BODY = '{"amount":42.5,"country":"US","merchant":"m-17","features":[0.12,0.5,0.33,0.9]}';
export const USERS = 1000;
const USER_IDS = Array.from({ length: USERS }, (_, i) => `u-${i}`);
const BODY_BUFFER = Buffer.from(BODY);

export interface OpenLoopRequest {
  url: string;
  rate: number;
  durationS: number;
  tag: string;
  connections?: number;
  /** After the last send, wait at most this long for answers; unfinished ones count as lower bounds. */
  drainMs?: number;
  /** Also return every request's latency and send lag, in send order (bench/investigations/stalls.ts). */
  timeline?: boolean;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface OpenLoopResult {
  tag: string;
  rate: number;
  durationS: number;
  sent: number;
  completed: number;
  /** Transport errors and non-2xx answers. */
  errors: number;
  /** Still unanswered at the end of the drain: their latency is counted as (end − scheduled), a lower bound. */
  unfinished: number;
  statuses: Record<string, number>;
  latencyMs: Percentiles;
  sendLagMs: { p50: number; p99: number; max: number };
  /** With `timeline`: request i was scheduled at wall time `startWallMs + i × intervalMs`. */
  timeline?: { startWallMs: number; intervalMs: number; latencyMs: number[]; lagMs: number[] };
}

function percentiles(values: Float64Array): Percentiles {
  const s = values.slice().sort();
  let sum = 0;
  for (const v of s) sum += v;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    p50: r(quantileSorted(s, 0.5)),
    p90: r(quantileSorted(s, 0.9)),
    p99: r(quantileSorted(s, 0.99)),
    p999: r(quantileSorted(s, 0.999)),
    max: r(s.length ? s[s.length - 1]! : NaN),
    mean: r(s.length ? sum / s.length : NaN),
  };
}

export async function openLoop(req: OpenLoopRequest): Promise<OpenLoopResult> {
  const url = new URL(req.url);
  const pool = new Pool(url.origin, {
    connections: req.connections ?? 128,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
  const path = (url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')) + '/predict';
  const total = Math.max(1, Math.round(req.rate * req.durationS));
  const interval = 1000 / req.rate;
  const latency = new Float64Array(total);
  const lag = new Float64Array(total);
  const done = new Uint8Array(total);
  const scheduled = new Float64Array(total);
  const statuses: Record<string, number> = {};
  let completed = 0;
  let errors = 0;
  let sent = 0;

  let allDone: () => void = () => undefined;
  const finished = new Promise<void>((r) => (allDone = r));
  let closed = false;
  const settle = (i: number, status: string, ok: boolean) => {
    if (closed || done[i]) return;
    done[i] = 1;
    latency[i] = performance.now() - scheduled[i]!;
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (!ok) errors++;
    completed++;
    if (completed === total) allDone();
  };
  // dispatch() with a tiny handler rather than request(): no promise and no body stream per request,
  // so the generator makes little garbage and its own GC pauses stay out of the latencies it records.
  const fire = (i: number) => {
    let status = 0;
    pool.dispatch(
      {
        method: 'POST',
        path,
        headers: ['content-type', 'application/json', 'x-user-id', USER_IDS[i % USERS]!, 'x-request-id', `${req.tag}-${i}`],
        body: BODY_BUFFER,
      },
      // The handler shape undici 7's Client itself takes (the newer controller API is only wrapped in
      // by interceptors).
      {
        onConnect() {},
        onHeaders(statusCode) {
          status = statusCode;
          return true;
        },
        onData() {
          return true;
        },
        onComplete() {
          settle(i, String(status), status < 300);
        },
        onError(err: Error & { code?: string }) {
          settle(i, err.code ?? 'error', false);
        },
      },
    );
  };

  const t0 = performance.now() + 20;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && t0 + sent * interval <= now) {
        const at = t0 + sent * interval;
        scheduled[sent] = at;
        lag[sent] = now - at;
        fire(sent);
        sent++;
      }
      if (sent >= total) return resolve();
      setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
    };
    setTimeout(tick, 20);
  });
  const drainMs = req.drainMs ?? 3000;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([finished, new Promise<void>((r) => (timer = setTimeout(r, drainMs)))]);
  clearTimeout(timer);
  let unfinished = 0;
  const end = performance.now();
  // Late answers (and the aborts of destroy() below) no longer count.
  closed = true;
  for (let i = 0; i < total; i++) {
    if (done[i]) continue;
    unfinished++;
    latency[i] = end - scheduled[i]!;
  }
  await pool.destroy().catch(() => undefined);
  const lagP = percentiles(lag);
  return {
    tag: req.tag,
    rate: req.rate,
    durationS: req.durationS,
    sent,
    completed,
    errors,
    unfinished,
    statuses,
    latencyMs: percentiles(latency),
    sendLagMs: { p50: lagP.p50, p99: lagP.p99, max: lagP.max },
    ...(req.timeline ? { timeline: { startWallMs: performance.timeOrigin + t0, intervalMs: interval, latencyMs: Array.from(latency), lagMs: Array.from(lag) } } : {}),
  };
}

async function main(): Promise<void> {
  if (process.send !== undefined) {
    // Forked by the harness: serve runs until the channel closes.
    process.on('message', (msg: { type: string; id: number; request: OpenLoopRequest }) => {
      if (msg.type !== 'run') return;
      openLoop(msg.request).then(
        (result) => process.send!({ type: 'result', id: msg.id, result }),
        (err: Error) => process.send!({ type: 'error', id: msg.id, message: err.stack ?? err.message }),
      );
    });
    process.on('disconnect', () => process.exit(0));
    process.send({ type: 'ready' });
    return;
  }
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      rate: { type: 'string', default: '1000' },
      duration: { type: 'string', default: '3' },
      tag: { type: 'string', default: 'ol' },
      connections: { type: 'string', default: '128' },
    },
  });
  if (!values.url) throw new Error('--url: required');
  const result = await openLoop({ url: values.url, rate: Number(values.rate), durationS: Number(values.duration), tag: values.tag!, connections: Number(values.connections) });
  process.stdout.write(JSON.stringify(result) + '\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err: Error) => {
    process.stderr.write(`open-loop: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
