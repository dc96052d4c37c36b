/**
 * Shadow calls in flight over time, rebuilt from ccrouter's pair records (a directory kept with
 * `npm run bench -- --keep`, or any `logging.dir`): why coverage can fall below 99 % although the
 * mean number in flight (rate × mean challenger latency) is under `traffic.shadowLimit`.
 *
 *   node --import tsx bench/investigations/inflight.ts --logs /tmp/ccrouter-bench-XXXX/ccr-slow/logs [--tag pin.r1.sat] [--window-ms 200]
 *
 * A record is written when both calls are over, so a challenger call made ran over
 * [time − latencyMs, time]; a skipped one was decided at about `time`. Approximate by the champion's
 * latency and the record's write delay, both short against a slow challenger's delay.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { count, flags, positive, runMain, UsageError } from '../lib/args.js';
import { quantileSorted } from '../lib/stats.js';

const USAGE = `Usage: node --import tsx bench/investigations/inflight.ts --logs DIR [options]

Rebuilds the number of challenger calls in flight over time from the pair records in DIR and prints,
per measurement tag (request ids <tag>-<n>): records, coverage, the mean number in flight by Little's
law, the rebuilt number in flight (median, p99, max, share of the time at the limit), the request rate
over windows of --window-ms (median and max), and the rebuilt number in flight when shadow calls were
skipped.

  --logs DIR        a ccrouter logging.dir (pairs*.jsonl)
  --tag PREFIX      only tags starting with PREFIX (default: every tag)
  --window-ms MS    window for the request rate (default 200, the slow challenger's delay)
  --limit N         traffic.shadowLimit of the run (default 1024)
  -h, --help
`;

interface Rec {
  tag: string;
  time: number;
  /** Challenger call made: its latency; else null (skipped). */
  latencyMs: number | null;
  overLimit: boolean;
}

async function read(dir: string): Promise<Rec[]> {
  const out: Rec[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => /^pairs.*\.jsonl$/.test(n))) {
    const rl = readline.createInterface({ input: fs.createReadStream(path.join(dir, f)), crlfDelay: Infinity });
    for await (const line of rl) {
      if (line.trim() === '') continue;
      const r = JSON.parse(line) as { time: number; requestId: string; challenger: { latencyMs: number | null; error: { kind: string; message: string } | null } };
      const c = r.challenger;
      out.push({
        tag: r.requestId.replace(/-\d+$/, ''),
        time: r.time,
        latencyMs: c.error?.kind === 'skipped' ? null : c.latencyMs,
        overLimit: c.error?.kind === 'skipped' && c.error.message.includes('shadowLimit'),
      });
    }
  }
  return out.sort((a, b) => a.time - b.time);
}

/** Calls in flight at each of `at` (sorted), from every call's [start, end] (all tags: calls overlap). */
function inflightAt(calls: Array<[number, number]>, at: number[]): number[] {
  const starts = calls.map((c) => c[0]).sort((a, b) => a - b);
  const ends = calls.map((c) => c[1]).sort((a, b) => a - b);
  const out: number[] = [];
  let s = 0;
  let e = 0;
  for (const t of at) {
    while (s < starts.length && starts[s]! <= t) s++;
    while (e < ends.length && ends[e]! < t) e++;
    out.push(s - e);
  }
  return out;
}

const q = (sorted: number[], p: number) => quantileSorted(sorted, p);

async function main(): Promise<void> {
  const values = flags(USAGE, { logs: { type: 'string' }, tag: { type: 'string' }, 'window-ms': { type: 'string' }, limit: { type: 'string' } });
  if (values.logs === undefined) throw new UsageError('--logs: required (a ccrouter logging.dir with pairs*.jsonl)');
  if (!fs.existsSync(values.logs)) throw new UsageError(`--logs ${values.logs}: no such directory`);
  const windowMs = positive('--window-ms', values['window-ms'], 200);
  const limit = count('--limit', values.limit, 1024);
  const all = await read(values.logs);
  const calls = all.filter((r) => r.latencyMs !== null).map((r): [number, number] => [r.time - r.latencyMs!, r.time]);
  const tags = [...new Set(all.map((r) => r.tag))].filter((t) => values.tag === undefined || t.startsWith(values.tag)).sort();
  process.stdout.write(`${all.length} records, ${calls.length} challenger calls; limit ${limit}, window ${windowMs} ms\n\n`);
  const head = ['tag', 'records', 'challenger called', 'req/s', 'Little', 'in flight p50/p99/max', 'time at limit', `req/s per ${windowMs} ms p50/max`, 'in flight at skips p50'];
  process.stdout.write(head.join(' | ') + '\n');
  for (const tag of tags) {
    const recs = all.filter((r) => r.tag === tag);
    const t0 = recs[0]!.time;
    const t1 = recs[recs.length - 1]!.time;
    const spanS = Math.max(1e-3, (t1 - t0) / 1000);
    const made = recs.filter((r) => r.latencyMs !== null);
    const meanLat = made.reduce((a, r) => a + r.latencyMs!, 0) / Math.max(1, made.length);
    const rate = recs.length / spanS;
    // The number in flight sampled every ms over the measurement.
    const grid: number[] = [];
    for (let t = t0; t <= t1; t += 1) grid.push(t);
    const level = inflightAt(calls, grid);
    const sorted = [...level].sort((a, b) => a - b);
    const atLimit = level.filter((n) => n >= limit).length / Math.max(1, level.length);
    // Requests per window (records by write time, a few ms after arrival).
    const perWindow: number[] = [];
    for (let w = t0; w + windowMs <= t1; w += windowMs) perWindow.push(recs.filter((r) => r.time >= w && r.time < w + windowMs).length / (windowMs / 1000));
    perWindow.sort((a, b) => a - b);
    const skips = recs.filter((r) => r.overLimit).map((r) => r.time);
    const atSkips = inflightAt(calls, skips).sort((a, b) => a - b);
    const f = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
    process.stdout.write(
      [
        tag,
        f(recs.length),
        `${((made.length / recs.length) * 100).toFixed(2)} %`,
        f(rate),
        f((rate * meanLat) / 1000),
        `${f(q(sorted, 0.5))} / ${f(q(sorted, 0.99))} / ${f(sorted[sorted.length - 1]!)}`,
        `${(atLimit * 100).toFixed(1)} %`,
        `${f(q(perWindow, 0.5))} / ${f(perWindow[perWindow.length - 1] ?? NaN)}`,
        skips.length === 0 ? '—' : f(q(atSkips, 0.5)),
      ].join(' | ') + '\n',
    );
  }
}

runMain(main);
