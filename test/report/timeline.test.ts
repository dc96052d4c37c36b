/**
 * The timeline (docs/report.md, "timeline"): buckets, default bucket, events marked on the charts,
 * time ticks, against a plain second implementation (timeline-reference.ts) on logs spread over weeks.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import seedrandom from 'seedrandom';
import { analyze, buildReport, runReport } from '../../src/commands/report.js';
import { renderCharts, timeAxis, toSvg } from '../../src/report/charts.js';
import { bucketCount, defaultBucket, parseBucket } from '../../src/report/sections/timeline.js';
import type { ChartData, Timeline } from '../../src/report/types.js';
import { io, outcome, pair, tempDir, writeLogs } from './helpers.js';
import { diff, referenceReport } from './reference.js';
import { percentile, referenceTimeline } from './timeline-reference.js';

type Obj = Record<string, any>;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
// 2026-03-02T00:00:00Z, a Monday.
const T0 = Date.UTC(2026, 2, 2);

/**
 * Five weeks of traffic with real gaps: weekends and one whole week without a record, busy and
 * quiet hours, both models erring and timing out now and then, a challenger whose score drifts up
 * in the last week, labels for about half the records, a skipped shadow call now and then.
 */
function weeksOfLogs(seed: number): { pairs: Obj[]; events: Obj[]; outcomes: Obj[] } {
  const rand = seedrandom.alea(String(seed));
  const pairs: Obj[] = [];
  const outcomes: Obj[] = [];
  let i = 0;
  for (let day = 0; day < 35; day++) {
    const weekday = day % 7;
    if (weekday >= 5 || (day >= 14 && day < 21)) continue; // weekends, and the third week: nothing
    const perDay = 20 + Math.floor(rand() * 40);
    for (let k = 0; k < perDay; k++) {
      const t = T0 + day * DAY + Math.floor(rand() * DAY);
      const drift = day >= 28 ? 0.15 : 0;
      const mk = (role: 'champion' | 'challenger') => {
        const r = rand();
        if (r < 0.04) return outcome({ role, error: { kind: 'timeout', message: 'x' }, latencyMs: 2000, status: null });
        if (r < 0.07 && role === 'challenger') return outcome({ role, error: { kind: 'skipped', message: 'shadow off' } });
        const score = Math.round(Math.min(1, rand() * 0.9 + (role === 'challenger' ? drift : 0)) * 1000) / 1000;
        return outcome({ role, score, decision: score >= 0.6, latencyMs: Math.round((5 + rand() ** 3 * 300) * 100) / 100 });
      };
      const p = pair({
        time: t, requestId: `w-${seed}-${i}`, unit: `u-${Math.floor(rand() * 300)}`,
        group: rand() < 0.1 ? 'control' : rand() < 0.7 ? 'champion' : 'challenger',
        config: day < 10 ? 'cfg-a' : 'cfg-b', champion: mk('champion'), challenger: mk('challenger'),
      });
      if (rand() < 0.02) p.error = { kind: 'client_abort', message: 'gone' };
      pairs.push(p);
      if (rand() < 0.5) outcomes.push({ requestId: p.requestId, label: rand() < 0.2 ? 1 : 0 });
      i++;
    }
  }
  const ev = (time: number, type: string, extra: Obj = {}) => ({ level: 30, time, msg: 'event', type, config: 'cfg-b', traffic: { control: 0.1, challenger: 0.3 }, ...extra });
  const events = [
    ev(T0 - HOUR, 'start', { config: 'cfg-a' }),
    ev(T0 + 10 * DAY + 9 * HOUR, 'config_loaded', { restartRequired: [] }),
    ev(T0 + 11 * DAY, 'ramp_step', { from: 0.1, to: 0.3 }),
    ev(T0 + 22 * DAY, 'guardrail_tripped', { rule: 'challenger_error_rate', value: 0.07, limit: 0.05 }),
    ev(T0 + 22 * DAY + 1000, 'rollback', { source: 'guardrail', traffic: { control: 0.1, challenger: 0 } }),
    ev(T0 + 29 * DAY, 'bypass', { on: true, source: 'admin' }),
    ev(T0 + 29 * DAY + HOUR, 'bypass', { on: false, source: 'admin' }),
    ev(T0 + 30 * DAY, 'config_rejected', { reason: 'not marked' }),
  ];
  return { pairs, events, outcomes };
}

test('timeline over five weeks with gaps equals the plain implementation, default bucket and --bucket', async (t) => {
  const dir = tempDir(t);
  const logs = weeksOfLogs(5);
  writeLogs(dir, { 'pairs.jsonl': logs.pairs, 'events.jsonl': logs.events, 'outcomes.jsonl': logs.outcomes });
  const input = { pairs: logs.pairs, events: logs.events, outcomeFiles: [logs.outcomes] };

  const r = await buildReport({ logs: dir });
  // ~5 weeks: 1 h would give over 800 buckets, so whole days.
  assert.equal(r.timeline.bucketMs, DAY);
  assert.equal(diff(r, referenceReport(input)), null);
  const days = r.timeline.rows.map((x) => (x.start - T0) / DAY);
  assert.ok(days.every((d) => Number.isInteger(d)), 'day buckets start at UTC midnight');
  assert.ok(!days.some((d) => d % 7 >= 5 || (d >= 14 && d < 21)), 'days without traffic are left out');
  assert.equal(r.timeline.rows.length, 20);
  assert.equal(r.timeline.rows.reduce((s, x) => s + x.records, 0), r.window.records);

  for (const bucket of ['6h', '90m', '1w']) {
    const ms = parseBucket(bucket);
    const got = await buildReport({ logs: dir, bucketMs: ms });
    assert.equal(diff(got.timeline, referenceReport({ ...input, bucketMs: ms }).timeline), null, bucket);
  }
  // The last week's challenger scores drift up by 0.15: its p90 moves, the champion's does not.
  const lastWeek = r.timeline.rows.filter((x) => x.start >= T0 + 28 * DAY);
  const before = r.timeline.rows.filter((x) => x.start < T0 + 14 * DAY);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(avg(lastWeek.map((x) => x.challenger.scoreP90!)) - avg(before.map((x) => x.challenger.scoreP90!)) > 0.1);
  assert.ok(Math.abs(avg(lastWeek.map((x) => x.champion.scoreP90!)) - avg(before.map((x) => x.champion.scoreP90!))) < 0.06);
});

test('timeline: hand-checkable bucket (one minute, five records)', async (t) => {
  const dir = tempDir(t);
  const base = T0 + 7 * MIN;
  const pairs = [
    pair({ time: base + 1000, champion: outcome({ score: 0.1, latencyMs: 10, decision: false }), challenger: outcome({ role: 'challenger', score: 0.9, latencyMs: 40, decision: true }) }),
    pair({ time: base + 2000, champion: outcome({ score: 0.3, latencyMs: 20, decision: false }), challenger: outcome({ role: 'challenger', error: { kind: 'skipped', message: 'off' } }) }),
    pair({ time: base + 3000, champion: outcome({ score: 0.5, latencyMs: 30, decision: true }), challenger: outcome({ role: 'challenger', error: { kind: 'timeout', message: 't' }, latencyMs: 500 }) }),
    pair({ time: base + 4000, champion: outcome({ score: 0.7, latencyMs: 40, decision: true }), challenger: outcome({ role: 'challenger', score: 0.2, latencyMs: 50, decision: false }) }),
    pair({ time: base + 59_999, champion: outcome({ error: { kind: 'status', message: '503' }, latencyMs: 5 }), challenger: outcome({ role: 'challenger', score: 0.4, latencyMs: 60, decision: false }) }),
    pair({ time: base + 60_000, champion: outcome({ score: 0.2 }), challenger: outcome({ role: 'challenger', score: 0.2 }) }),
  ];
  writeLogs(dir, { 'pairs.jsonl': pairs, 'outcomes.jsonl': [{ requestId: pairs[0]!.requestId, label: 1 }, { requestId: pairs[5]!.requestId, label: 0 }] });
  const r = await buildReport({ logs: dir });
  assert.equal(r.timeline.bucketMs, MIN);
  assert.equal(r.timeline.rows.length, 2);
  const [a, b] = r.timeline.rows;
  assert.equal(a!.start, base);
  assert.equal(b!.start, base + MIN);
  assert.equal(a!.records, 5);
  assert.equal(a!.labelled, 1);
  // Champion: 5 calls, 1 error; latencies 10 20 30 40 5 → p99 at rank 3.96 of [5 10 20 30 40] = 30 + 0.96·10.
  assert.equal(diff(a!.champion, { calls: 5, errorRate: 0.2, latencyP99: 39.6, scoreP50: 0.4, scoreP90: 0.64, scoreP95: 0.67, decisionRate: 0.5 }, 1e-12), null);
  // Challenger: the skipped outcome is no call; 4 calls, 1 timeout; latencies 40 500 50 60 → rank 2.97.
  assert.equal(a!.challenger.calls, 4);
  assert.equal(a!.challenger.errorRate, 0.25);
  assert.ok(Math.abs(a!.challenger.latencyP99! - (60 + 0.97 * 440)) < 1e-9);
  assert.equal(a!.challenger.scoreP50, 0.4);
  assert.equal(a!.challenger.decisionRate, 1 / 3);
  assert.equal(b!.labelled, 1);
  assert.equal(percentile([5, 10, 20, 30, 40], 0.99), a!.champion.latencyP99);
});

test('default bucket: the smallest of 1 min, 5 min, 1 h, 1 d giving at most 200 buckets; whole days beyond', () => {
  const at = (from: number, span: number) => defaultBucket(from, from + span);
  assert.equal(at(T0, 30_000), MIN);
  assert.equal(at(T0, 199 * MIN), MIN);
  assert.equal(at(T0, 200 * MIN), 5 * MIN); // 201 one-minute buckets from :00 to :200 inclusive
  assert.equal(at(T0 + 30_000, 199 * MIN + 40_000), 5 * MIN); // 199.7 min, not aligned: it touches 201 minutes
  assert.equal(at(T0, 16 * HOUR), 5 * MIN);
  assert.equal(at(T0, 17 * HOUR), HOUR);
  assert.equal(at(T0, 8 * DAY), HOUR);
  assert.equal(at(T0, 9 * DAY), DAY);
  assert.equal(at(T0, 92 * DAY), DAY);
  const year = at(T0, 365 * DAY);
  assert.equal(year, 2 * DAY);
  assert.ok(bucketCount(T0, T0 + 365 * DAY, year) <= 200);
  assert.equal(defaultBucket(null, null), MIN);
});

test('--bucket: durations parsed, nonsense refused naming the flag, too many buckets refused (exit 2)', async (t) => {
  assert.equal(parseBucket('30s'), 30_000);
  assert.equal(parseBucket('5m'), 5 * MIN);
  assert.equal(parseBucket('0.1h'), 6 * MIN);
  assert.equal(parseBucket('1d'), DAY);
  assert.equal(parseBucket('2w'), 14 * DAY);
  assert.equal(parseBucket('250ms'), 250);
  for (const bad of ['', '0s', '10', '1y', '-1h', '0.5ms', "1h'; DROP TABLE rec; --", '400d']) {
    assert.throws(() => parseBucket(bad), { code: 'CCR_ERR_USAGE', message: /^--bucket: must be a duration/ }, bad);
  }
  const dir = tempDir(t);
  writeLogs(dir, { 'pairs.jsonl': [pair({ time: T0 }), pair({ time: T0 + 30 * DAY })] });
  const cap = io();
  assert.equal(await runReport(['--logs', dir, '--bucket', '1s', '--format', 'json'], cap.io), 2);
  assert.match(cap.err.join(''), /--bucket 1 s: the window \(30 d\) would need 2592001 buckets, at most 10000/);
  const ok = io();
  assert.equal(await runReport(['--logs', dir, '--bucket', '1d', '--format', 'json'], ok.io), 0);
  assert.deepEqual(JSON.parse(ok.out.join('')).timeline.rows.map((x: Obj) => x.start), [T0, T0 + 30 * DAY]);
});

/** The tick labels of the x axis in a rendered chart. */
function xTickLabels(svg: string): string[] {
  const axis = /<g class="mark-group role-axis" [^>]*aria-label="X-axis[^"]*"[\s\S]*?<g class="mark-text role-axis-label"[^>]*>([\s\S]*?)<\/g>/.exec(svg);
  assert.ok(axis, 'x axis labels found');
  return [...axis[1]!.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
}

function timelineOf(from: number, to: number, n: number): Timeline {
  const m = { calls: 10, errorRate: 0, latencyP99: 20, scoreP50: 0.3, scoreP90: 0.6, scoreP95: 0.7, decisionRate: 0.1 };
  const step = (to - from) / (n - 1);
  return { bucketMs: Math.max(1, Math.floor(step)), rows: Array.from({ length: n }, (_, i) => ({ start: from + i * step, records: 10, labelled: 0, champion: m, challenger: m })) };
}

const noCharts: ChartData = { scores: [], latency: [], traffic: [], pr: [], roc: [], operating: [], events: [], eventsOmitted: 0, coverage: [] };

test('time ticks stay readable: seconds for a 30 s window, dates for a three-month one', async (t) => {
  const shortFrom = Date.UTC(2026, 4, 1, 13, 59, 50);
  const short = timeAxis(shortFrom, shortFrom + 30_000);
  assert.deepEqual(short, { format: '%H:%M:%S', title: 'time (UTC), 2026-05-01' });
  const longFrom = Date.UTC(2026, 0, 10);
  const long = timeAxis(longFrom, longFrom + 91 * DAY);
  assert.deepEqual(long, { format: '%b %d', title: 'time (UTC), 2026' });
  assert.equal(timeAxis(shortFrom, shortFrom + 4000).format, '%H:%M:%S.%L');
  assert.equal(timeAxis(shortFrom, shortFrom + 3 * HOUR).format, '%H:%M');
  assert.equal(timeAxis(longFrom, longFrom + 3 * DAY).format, '%b %d %H:%M');
  assert.equal(timeAxis(longFrom, longFrom + 900 * DAY).format, '%b %Y');

  // Rendered: several ticks, all different, in the chosen form, in UTC whatever the machine's zone.
  const zone = process.env.TZ;
  process.env.TZ = 'America/Sao_Paulo';
  t.after(() => {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });
  assert.equal(new Date(shortFrom).getHours(), 10, 'the zone change took effect');
  const shortSvg = (await renderCharts(noCharts, { from: shortFrom, to: shortFrom + 30_000 }, timelineOf(shortFrom, shortFrom + 30_000, 30))).timeline!.decisionRate;
  const s = xTickLabels(shortSvg);
  assert.ok(s.length >= 3, `short ticks ${s}`);
  assert.equal(new Set(s).size, s.length, `distinct: ${s}`);
  for (const l of s) assert.match(l, /^(13:59:5\d|14:00:[0-2]\d)$/);
  const longSvg = (await renderCharts(noCharts, { from: longFrom, to: longFrom + 91 * DAY }, timelineOf(longFrom, longFrom + 91 * DAY, 92))).timeline!.errorRate;
  const l = xTickLabels(longSvg);
  assert.ok(l.length >= 3, `long ticks ${l}`);
  assert.equal(new Set(l).size, l.length, `distinct: ${l}`);
  for (const x of l) assert.match(x, /^(Jan|Feb|Mar|Apr) \d\d$/);
  assert.match(longSvg, /time \(UTC\), 2026/);
});

test('HTML: timeline charts with every marked event as a numbered line, events listed; text summary', async (t) => {
  const dir = tempDir(t);
  const logs = weeksOfLogs(6);
  writeLogs(dir, { 'pairs.jsonl': logs.pairs, 'events.jsonl': logs.events, 'outcomes.jsonl': logs.outcomes });
  const { charts } = await analyze({ logs: dir, charts: true });
  // start precedes the window and config_rejected is not marked: six events.
  assert.deepEqual(charts!.events.map((e) => e.type), ['config_loaded', 'ramp_step', 'guardrail_tripped', 'rollback', 'bypass', 'bypass']);
  assert.deepEqual(charts!.events.map((e) => e.detail), [
    'challenger 30%, control 10%', 'challenger 10% → 30%', 'challenger_error_rate = 0.07 (limit 0.05)', 'challenger to 0 (guardrail)',
    'kill switch on', 'kill switch off',
  ]);
  // Coverage by day: weekdays only, summing to the window's records and labels.
  const { report } = await analyze({ logs: dir });
  assert.equal(charts!.coverage.length, 20);
  assert.ok(charts!.coverage.every((d) => (d.day - T0) % DAY === 0 && ((d.day - T0) / DAY) % 7 < 5));
  assert.equal(charts!.coverage.reduce((s, d) => s + d.records, 0), report.window.records);
  assert.equal(charts!.coverage.reduce((s, d) => s + d.labelled, 0), report.labels.n);
  const html = io();
  assert.equal(await runReport(['--logs', dir, '--format', 'html'], html.io), 0);
  const page = html.out.join('');
  for (const caption of ['Decision rate per bucket', 'Error rate per bucket', 'Latency p99 per bucket', 'Score p90 and p95 per bucket']) {
    const fig = new RegExp(`<figure><svg[\\s\\S]*?</svg><figcaption>${caption}`).exec(page);
    assert.ok(fig, caption);
    // One rule per event (role-mark rules), numbered 1..6.
    const rules = /<g class="mark-rule role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/.exec(fig[0])!;
    assert.equal(rules[1]!.match(/<line /g)!.length, 6, `${caption}: markers`);
    for (let n = 1; n <= 6; n++) assert.match(fig[0], new RegExp(`<text[^>]*>${n}</text>`));
  }
  assert.match(page, /<th scope="row">3<\/th><td>2026-03-24T00:00:00Z<\/td>/);
  assert.match(page, /challenger_error_rate = 0\.07 \(limit 0\.05\)/);
  assert.match(page, /<svg[^>]*>[\s\S]*?<\/svg><figcaption>Precision–recall<\/figcaption><\/figure><figure><svg[\s\S]*?<\/svg><figcaption>ROC/);
  assert.match(page, /<figcaption>Label coverage by day \(UTC\)/);

  const text = io();
  assert.equal(await runReport(['--logs', dir], text.io), 0);
  assert.match(text.out.join(''), /TIMELINE {2}20 buckets of 1 d with records \(2026-03-02T00:00:00Z → 2026-04-03T00:00:00Z\)/);
  assert.match(text.out.join(''), /\n {2}decision rate +\d/);
});

test('ROC and PR charts mark each model\u2019s operating point at its decisions\u2019 recall, precision and false positive rate', async (t) => {
  const dir = tempDir(t);
  const logs = weeksOfLogs(7);
  writeLogs(dir, { 'pairs.jsonl': logs.pairs, 'events.jsonl': logs.events, 'outcomes.jsonl': logs.outcomes });
  const { report, charts } = await analyze({ logs: dir, charts: true });
  for (const role of ['champion', 'challenger'] as const) {
    const op = charts!.operating.find((p) => p.model === role)!;
    assert.equal(op.recall, report.labels[role].recall);
    assert.equal(op.precision, report.labels[role].precision);
    const roc = charts!.roc.filter((p) => p.model === role);
    assert.deepEqual([roc[0]!.fpr, roc[0]!.tpr], [0, 0]);
    assert.deepEqual([roc.at(-1)!.fpr, roc.at(-1)!.tpr], [1, 1]);
  }
  const svg = await toSvg({ data: { values: [] }, mark: 'point' });
  assert.match(svg, /<svg/);
  const { roc, pr } = await renderCharts(charts!, report.window, report.timeline);
  // The operating points are drawn as filled symbols (one per model) on both charts.
  for (const chart of [roc!, pr!]) assert.equal((/<g class="mark-symbol role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/.exec(chart)![1]!.match(/<path /g) ?? []).length, 2);
});

test('referenceTimeline agrees with itself on records without a time (left out)', () => {
  const recs = [pair({ time: T0 }), pair({ time: null }), pair({ time: T0 + 5 })];
  const tl = referenceTimeline(recs, () => null);
  assert.equal(tl.rows.length, 1);
  assert.equal(tl.rows[0]!.records, 2);
});

test('events whose details have the wrong types are still marked, and the report does not fail', async (t) => {
  const dir = tempDir(t);
  const ev = (time: number, type: string, extra: Obj) => ({ time, msg: 'event', type, config: 'c1', traffic: { control: 0.1, challenger: 0.2 }, ...extra });
  writeLogs(dir, {
    'pairs.jsonl': [pair({ time: T0, config: 'c1' }), pair({ time: T0 + 100_000, config: 'c1' })],
    'events.jsonl': [
      ev(T0, 'config_loaded', {}),
      ev(T0 + 50_000, 'guardrail_tripped', { rule: { x: 1 }, value: 'abc', limit: [1] }),
      ev(T0 + 60_000, 'rollback', { source: 5 }),
      ev(T0 + 70_000, 'ramp_step', { from: 'a', to: null }),
      ev(T0 + 80_000, 'not_an_event_type', {}),
    ],
  });
  const { report, charts } = await analyze({ logs: dir, charts: true });
  assert.equal(report.window.malformedLines, 0);
  assert.equal(report.traffic.srm.config, 'c1');
  assert.deepEqual(charts!.events.map((e) => [e.type, e.detail]), [
    ['config_loaded', 'challenger 20%, control 10%'],
    ['guardrail_tripped', '{"x":1}'],
    ['rollback', 'challenger to 0 (5)'],
    ['ramp_step', 'challenger ? → ?'],
  ]);
});

// Computed with numpy by test/fixtures/report/make-timeline.py (pasted output; CI needs no numpy):
//   python3 test/fixtures/report/make-timeline.py > test/fixtures/report/timeline-weeks.json
const numpyFixture = JSON.parse(readFileSync(new URL('../fixtures/report/timeline-weeks.json', import.meta.url), 'utf8')) as
  { pairs: Obj[]; outcomes: Obj[]; expected: Record<string, Timeline> };

test('numpy reference: three weeks with weekends and a week without traffic, day and 6 h buckets', async (t) => {
  const dir = tempDir(t);
  writeLogs(dir, { 'pairs.jsonl': numpyFixture.pairs, 'outcomes.jsonl': numpyFixture.outcomes });
  const byDefault = await buildReport({ logs: dir });
  assert.equal(byDefault.timeline.bucketMs, DAY);
  assert.equal(diff(byDefault.timeline, numpyFixture.expected[String(DAY)]), null);
  const sixHours = await buildReport({ logs: dir, bucketMs: parseBucket('6h') });
  assert.equal(diff(sixHours.timeline, numpyFixture.expected[String(6 * HOUR)]), null);
  assert.equal(numpyFixture.expected[String(DAY)]!.rows.length, 10);
});
