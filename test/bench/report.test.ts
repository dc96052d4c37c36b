/** The benchmark's arithmetic: paired ratios, added p99, coverage eligibility, RSS trend, targets. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { renderMarkdown, rssGrowth, summarize, targets, SHADOW_LIMIT } from '../../bench/lib/report.js';
import type { Coverage } from '../../bench/lib/coverage.js';
import type { Layout, OlSample, PeerInfo, RunResults, SatSample } from '../../bench/lib/results.js';
import { median, quantile } from '../../bench/lib/stats.js';
import { stealShare } from '../../bench/lib/proc.js';

const peer = (id: string, over: Partial<PeerInfo> = {}): PeerInfo => ({
  id,
  label: id,
  what: id,
  ccrouter: id.startsWith('ccr-'),
  slowChallenger: id === 'ccr-slow',
  shadow: id === 'ccr-shadow' || id === 'ccr-slow',
  ...over,
});

function sat(peerId: string, round: number, rps: number, layout: Layout = 'pinned'): SatSample {
  return { layout, round, peer: peerId, tag: `${layout === 'pinned' ? 'pin' : 'free'}.r${round}.sat`, rps, requests: rps * 2, errors: 0, cpuUsPerReq: 1e6 / rps, p50Ms: 1, p99Ms: 5, coreBusy: [1, 0.5], rssMiB: 80, foreign: 0.05, steal: 0.03, neighbours: 0 };
}

function ol(peerId: string, round: number, rate: number, p99: number): OlSample {
  return {
    layout: 'pinned',
    round,
    peer: peerId,
    rate,
    tag: `pin.r${round}.ol${rate}`,
    result: { tag: '', rate, durationS: 3, sent: rate * 3, completed: rate * 3, errors: 0, unfinished: 0, statuses: { '200': rate * 3 }, latencyMs: { p50: p99 / 4, p90: p99 / 2, p99, p999: p99 * 2, max: p99 * 3, mean: p99 / 3 }, sendLagMs: { p50: 0, p99: 0.1, max: 1 } },
    rssMiB: 80,
    cpuUsPerReq: 240,
    coreBusy: [0.78, 0.5],
    foreign: 0.02,
  };
}

const cov = (records: number, covered: number, challengerMs: number | null): Coverage => ({ records, covered, overLimit: records - covered, errors: 0, challengerMs });

function run(over: Partial<RunResults> = {}): RunResults {
  return {
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:05:00.000Z',
    elapsedS: 300,
    command: 'npm run bench',
    options: { rounds: 3, satDurationS: 2, olDurationS: 3, warmupS: 3, rates: [1000], connections: 50, layouts: ['pinned'], rssSeconds: 0, rssIntervalS: 5, rssRate: 1000, quick: false, waitQuietS: 0 },
    machine: { nproc: 2, cpuModel: 'test', kernel: 'test', memGiB: 4, node: 'v20', nginx: null, wrk: null, taskset: true, loadAvg: [0, 0, 0] },
    tool: 'wrk',
    ccrouterBuild: 'dist',
    peers: ['direct', 'fastify-proxy', 'ccr-shadow', 'ccr-noshadow', 'ccr-slow'].map((id) => peer(id)),
    skipped: [],
    sat: [],
    ol: [],
    coverage: {},
    rss: null,
    notes: [],
    retried: 0,
    ...over,
  };
}

test('quantiles interpolate linearly between closest ranks (numpy default); median skips non-finite values', () => {
  assert.equal(quantile([4, 1, 3, 2], 0.5), 2.5);
  assert.ok(Math.abs(quantile([1, 2, 3, 4], 0.99) - 3.97) < 1e-12);
  assert.equal(quantile([7], 0.99), 7);
  assert.ok(Number.isNaN(quantile([], 0.5)));
  assert.equal(median([3, null, NaN, 1, undefined, 2]), 2);
  assert.ok(Number.isNaN(median([null, NaN])));
});

test('throughput ratios pair each round with the reference of the same round, then take the median', () => {
  // Machine speed drifts across rounds; ratios of medians would mix rounds (900/1000 = 0.9 here).
  const res = run({
    sat: [sat('fastify-proxy', 1, 1000), sat('fastify-proxy', 2, 500), sat('fastify-proxy', 3, 2000), sat('ccr-shadow', 1, 1300), sat('ccr-shadow', 2, 600), sat('ccr-shadow', 3, 900)],
  });
  const shadow = summarize(res).find((s) => s.peer.id === 'ccr-shadow')!;
  // Per round 1.3, 1.2, 0.45 → median 1.2; the median rps is 900.
  assert.equal(shadow.vsPlain, 1.2);
  assert.equal(shadow.rps!.median, 900);
  assert.deepEqual([shadow.rps!.min, shadow.rps!.max], [600, 1300]);
  const row = targets(res, summarize(res)).find((t) => t.figure.startsWith('shadow-mode saturation'))!;
  assert.equal(row.measured, '1.20×');
  assert.equal(row.pass, true);
});

test('added p99 is the median over rounds of (p99 − direct p99 of the same round)', () => {
  const res = run({
    sat: [sat('direct', 1, 9000), sat('ccr-shadow', 1, 4000)],
    ol: [ol('direct', 1, 1000, 2), ol('direct', 2, 1000, 40), ol('direct', 3, 1000, 3), ol('ccr-shadow', 1, 1000, 3), ol('ccr-shadow', 2, 1000, 41), ol('ccr-shadow', 3, 1000, 5)],
  });
  const o = summarize(res).find((s) => s.peer.id === 'ccr-shadow')!.ol.get(1000)!;
  // Added per round 1, 1, 2 → 1 ms; the difference of the medians (5 − 3) would say 2 ms.
  assert.equal(o.addedP99, 1);
  assert.equal(o.p99, 5);
  assert.equal(targets(res, summarize(res)).find((t) => t.figure.includes('added p99'))!.pass, true);
  // 6, 1, 6 → 6 ms: FAIL.
  const worse = run({ ...res, ol: res.ol.map((s) => (s.peer === 'ccr-shadow' && s.round !== 2 ? ol('ccr-shadow', s.round, 1000, s.round === 1 ? 8 : 9) : s)) });
  const row = targets(worse, summarize(worse)).find((t) => t.figure.includes('added p99'))!;
  assert.equal(row.measured, '6.00 ms');
  assert.equal(row.pass, false);
});

test('shadow coverage is judged only where rate × mean challenger latency ≤ shadowLimit, pooled over rounds', () => {
  const over = (SHADOW_LIMIT + 100) / 0.2; // req/s at which a 200 ms challenger exceeds the limit
  const res = run({
    sat: [sat('ccr-slow', 1, over), sat('ccr-slow', 2, over), sat('ccr-shadow', 1, 4000)],
    ol: [ol('ccr-slow', 1, 1000, 10), ol('ccr-slow', 2, 1000, 10)],
    coverage: {
      'ccr-slow': {
        // saturation: 200 ms × ~5 600 req/s ≈ 1 124 in flight > 1 024: not judged, however low.
        'pin.r1.sat': cov(1000, 500, 200),
        'pin.r2.sat': cov(1000, 500, 200),
        // 1 000 req/s × 200 ms = 200 in flight: judged; pooled 1 996 / 2 000.
        'pin.r1.ol1000': cov(1000, 1000, 200),
        'pin.r2.ol1000': cov(1000, 996, 200),
        // A disturbed attempt measured again (its samples were not kept): left out.
        'pin.r2a2.ol1000': cov(1000, 10, 200),
      },
      'ccr-shadow': { 'pin.r1.sat': cov(8000, 8000, 5) },
    },
  });
  const slow = summarize(res).find((s) => s.peer.id === 'ccr-slow')!;
  assert.equal(slow.coverage.get('ol1000')!.share, 0.998);
  assert.equal(slow.coverage.get('ol1000')!.inflight, 200);
  assert.ok(slow.coverage.get('sat')!.inflight! > SHADOW_LIMIT);
  const row = targets(res, summarize(res)).find((t) => t.figure.startsWith('shadow coverage'))!;
  assert.equal(row.measured, 'min 99.80 % over 2 runs');
  assert.equal(row.pass, true);

  const low = run({ ...res, coverage: { ...res.coverage, 'ccr-slow': { ...res.coverage['ccr-slow'], 'pin.r2.ol1000': cov(1000, 900, 200) } } });
  const lowRow = targets(low, summarize(low)).find((t) => t.figure.startsWith('shadow coverage'))!;
  assert.equal(lowRow.pass, false);
  assert.equal(lowRow.measured, 'min 95.0 % over 2 runs');
});

test('RSS growth compares the medians of the halves after warm-up; too few samples give no verdict', () => {
  const samples = [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55].map((tS, i) => ({ tS, rssMiB: tS < 20 ? 60 + i * 10 : 100 + (i % 2) }));
  const res = run({ rss: { peer: 'ccr-slow', rate: 1000, seconds: 60, intervalS: 5, warmupS: 20, samples, latency: null, coverage: null } });
  const g = rssGrowth(res)!;
  // After warm-up: 100, 101, 100, 101, 100, 101, 100, 101: halves' medians 100.5 and 100.5.
  assert.equal(g.from, 100.5);
  assert.equal(g.to, 100.5);
  assert.equal(g.growth, 0);
  assert.equal(targets(res, summarize(res)).find((t) => t.figure.startsWith('RSS'))!.pass, true);

  const growing = run({ rss: { ...res.rss!, samples: samples.map((p) => ({ tS: p.tS, rssMiB: 100 + p.tS })) } });
  const gg = rssGrowth(growing)!;
  assert.ok(gg.growth > 0.1 && Math.abs(gg.slopePerMin - 60) < 1e-9);
  assert.equal(targets(growing, summarize(growing)).find((t) => t.figure.startsWith('RSS'))!.pass, false);

  const short = run({ rss: { ...res.rss!, samples: samples.slice(0, 6) } });
  assert.equal(rssGrowth(short), null);
});

test('the markdown carries the targets table with PASS, FAIL and — where a figure was not measured', () => {
  const res = run({ sat: [sat('fastify-proxy', 1, 1000), sat('ccr-shadow', 1, 1100), sat('ccr-noshadow', 1, 2000)], ol: [ol('ccr-shadow', 1, 1000, 4)] });
  const md = renderMarkdown(res);
  assert.match(md, /\| shadow-mode saturation throughput vs plain @fastify\/http-proxy, pinned \| ≥ 1\.2× \| 1\.10× \| \*\*FAIL\*\* \|/);
  assert.match(md, /\| shadow off vs plain @fastify\/http-proxy, pinned \| ≥ 1\.7× \| 2\.00× \| PASS \|/);
  assert.match(md, /\| same, unpinned \| ≥ 1\.0× \| n\/a \| — \|/);
  // Open loop: p50 / p99, then how busy the peer's core was and its CPU per request at that rate.
  assert.match(md, /\| ccr-shadow \| [^\n]* \| 1\.00 \/ 4\.00 \(78 %, 240\) \|/);
  // Foreign CPU, median (max), then the hypervisor's steal alone.
  assert.match(md, /\| 5 % \(max 5 %\); steal 3 % \|/);
});

test('steal is the hypervisor\'s share of every core\'s time between two /proc/stat readings', () => {
  const before = [{ busy: 100, total: 1000, steal: 10 }, { busy: 50, total: 1000, steal: 0 }];
  const after = [{ busy: 400, total: 1500, steal: 110 }, { busy: 150, total: 1500, steal: 50 }];
  assert.equal(stealShare(before, after), 0.15);
  assert.equal(stealShare(after, after), 0);
});
