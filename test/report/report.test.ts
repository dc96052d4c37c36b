/** End to end: log files in a temporary directory → buildReport / runReport. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildReport, labelledScores, parseTime, runReport, type Report } from '../../src/commands/report.js';
import { mcnemar, pearson, psi, quantile, spearman, srmTest, Z95 } from '../../src/stats/index.js';
import { diff, referenceReport } from './reference.js';
import { io, outcome, pair, randomLogs, tempDir, writeLogs } from './helpers.js';

 


function close(actual: number | null | undefined, expected: number, what: string, tol = 1e-12): void {
  assert.ok(typeof actual === 'number', `${what}: got ${actual}`);
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: got ${actual}, expected ${expected}`);
}

const T0 = 1_790_000_000_000;

/** The small data set every figure of test 'definitions' is worked out from by hand. */
function handData() {
  const s = (role: 'champion' | 'challenger', score: number, decision: boolean, latencyMs: number) => outcome({ role, score, decision, latencyMs });
  const pairs = [
    pair({ time: T0 + 1, requestId: 'A', group: 'control', champion: s('champion', 0.8, true, 10), challenger: s('challenger', 0.7, true, 20) }),
    pair({ time: T0 + 2, requestId: 'B', champion: s('champion', 0.2, false, 12), challenger: s('challenger', 0.6, true, 22) }),
    pair({ time: T0 + 3, requestId: 'C', champion: s('champion', 0.9, true, 14), challenger: s('challenger', 0.4, false, 24) }),
    pair({ time: T0 + 4, requestId: 'D', unit: 'u-D', group: 'challenger', champion: s('champion', 0.3, false, 16), challenger: s('challenger', 0.1, false, 26) }),
    pair({ time: T0 + 5, requestId: 'E', champion: s('champion', 0.5, true, 18), challenger: outcome({ role: 'challenger', error: { kind: 'skipped', message: 'shadow limit' } }) }),
    pair({ time: T0 + 6, requestId: 'F', group: 'challenger', champion: outcome({ role: 'champion', error: { kind: 'timeout', message: 't' }, latencyMs: 250 }), challenger: s('challenger', 0.95, true, 30) }),
    pair({ time: T0 + 7, requestId: 'G', error: { kind: 'too_large', message: 'too large' } }),
  ];
  const events = [{ level: 30, time: T0, msg: 'event', type: 'start', config: 'cfg-a', traffic: { control: 0.2, challenger: 0.3 } }];
  const outcomes = [
    { msg: 'outcome', requestId: 'A', label: 1 },
    { msg: 'outcome', requestId: 'B', label: false },
    { msg: 'outcome', requestId: 'C', label: true },
    { msg: 'outcome', unit: 'u-D', label: 0 },
    { msg: 'outcome', requestId: 'F', label: 1 },
    { msg: 'outcome', requestId: 'G', label: 1 },
  ];
  return { pairs, events, outcomes };
}

test('definitions: every figure on hand-checkable data', async (t) => {
  const dir = tempDir(t);
  const d = handData();
  writeLogs(dir, { 'pairs.jsonl': d.pairs, 'events.jsonl': d.events, 'outcomes.jsonl': d.outcomes });
  const r = await buildReport({ logs: dir });

  assert.deepEqual(Object.keys(r), ['window', 'traffic', 'models', 'agreement', 'drift', 'labels', 'impact', 'timeline', 'verdict', 'flags']);
  assert.deepEqual(r.window, { from: T0 + 1, to: T0 + 6, records: 6, rejected: 1, malformedLines: 0, outOfRange: 0, notices: [] });
  assert.deepEqual(r.traffic.groups, { control: { n: 1, share: 1 / 6 }, champion: { n: 3, share: 3 / 6 }, challenger: { n: 2, share: 2 / 6 } });
  assert.equal(r.traffic.shadowCoverage, 5 / 6);
  assert.equal(r.traffic.fallbacks, 0);
  // Expected 0.2/0.5/0.3 of 6 records: 1.2, 3, 1.8 against 1, 3, 2.
  const chi2 = 0.2 ** 2 / 1.2 + 0 + 0.2 ** 2 / 1.8;
  assert.equal(r.traffic.srm.config, 'cfg-a');
  close(r.traffic.srm.chi2, chi2, 'srm chi2');
  close(r.traffic.srm.pValue, Math.exp(-chi2 / 2), 'srm p (2 df)');
  assert.equal(r.traffic.srm.flag, false);

  const c = r.models.champion;
  assert.equal(c.version, 'm-v1');
  assert.equal(c.calls, 6);
  assert.deepEqual(c.errors, { rate: 1 / 6, byKind: { timeout: 1 } });
  // Percentiles agree with numpy's to the last bits (DuckDB and numpy may round the last one apart).
  assert.equal(c.latencyMs.p50, 15);
  close(c.latencyMs.p95, quantile([10, 12, 14, 16, 18, 250], 0.95)!, 'p95');
  close(c.latencyMs.p99, quantile([10, 12, 14, 16, 18, 250], 0.99)!, 'p99');
  close(c.latencyMs.mean, 320 / 6, 'mean latency');
  close(c.score.mean, 0.54, 'champion score mean');
  assert.equal(c.score.p50, 0.5);
  close(c.score.p10, 0.2 + 0.4 * 0.1, 'champion p10');
  assert.equal(c.decisionRate, 3 / 5);
  const h = r.models.challenger;
  assert.equal(h.version, 'm-v2');
  assert.equal(h.calls, 5);
  assert.deepEqual(h.errors, { rate: 0, byKind: {} });
  assert.equal(h.latencyMs.p50, 24);
  close(h.latencyMs.mean, 24.4, 'challenger mean latency');
  close(h.score.mean, 0.55, 'challenger score mean');
  assert.equal(h.decisionRate, 3 / 5);
  assert.equal(c.normalized, undefined);

  assert.equal(r.agreement.n, 4);
  assert.equal(r.agreement.decisionAgreement, 0.5);
  close(r.agreement.pearson, pearson([0.8, 0.2, 0.9, 0.3], [0.7, 0.6, 0.4, 0.1])!, 'pearson');
  close(r.agreement.spearman, spearman([0.8, 0.2, 0.9, 0.3], [0.7, 0.6, 0.4, 0.1])!, 'spearman');
  close(r.agreement.meanAbsDelta, 0.3, 'meanAbsDelta');
  close(r.drift.psi, psi([0.8, 0.2, 0.9, 0.3], [0.7, 0.6, 0.4, 0.1])!, 'psi');

  assert.equal(r.labels.n, 5);
  assert.deepEqual(r.labels.champion, { n: 4, positives: 2, precision: 1, recall: 1, f1: 1, accuracy: 1, auc: 1 });
  assert.deepEqual(r.labels.challenger, { n: 5, positives: 3, precision: 2 / 3, recall: 2 / 3, f1: 2 / 3, accuracy: 3 / 5, auc: 5 / 6 });
  assert.deepEqual(r.labels.control.champion, { n: 1, positives: 1, precision: 1, recall: 1, f1: 1, accuracy: 1, auc: null });
  assert.deepEqual(r.labels.paired, {
    n: 4, championOnlyCorrect: 2, challengerOnlyCorrect: 0, pValue: 0.5,
    // d_u: −1, −1 (B and C); χ² = 4/2 = 2, 1 df.
    clusteredPValue: r.labels.paired.clusteredPValue, sequentialPValue: r.labels.paired.sequentialPValue,
  });
  close(r.labels.paired.clusteredPValue, 0.15729920705028105, 'clustered McNemar (scipy.stats.chi2.sf(2, 1))');
  // After B (b=1): BF = 2·B(1, 2) = 1; after C (b=2): BF = 4·B(1, 3) = 4/3 → p = 3/4.
  close(r.labels.paired.sequentialPValue, 0.75, 'sequential p');
  assert.equal(r.labels.eligible, 6);
  assert.equal(r.labels.coverage, 5 / 6);
  assert.equal(r.labels.matureBefore, null);
  assert.deepEqual(r.labels.outcomes, { accepted: 6, rejected: 0 });

  // One request per customer: each group's clusters are its labelled records. Delta-method
  // variance with n_u = 1: S(s)/m, S(s) the sample variance of the labels (0 and 1: 0.5).
  const se = Math.sqrt(0.5 / 2);
  assert.deepEqual(r.impact.control, { n: 1, labeled: 1, positiveRate: 1, ci: null, decisionRate: 1 });
  assert.deepEqual(r.impact.champion, { n: 3, labeled: 2, positiveRate: 0.5, ci: [0.5 - Z95 * se, 0.5 + Z95 * se], decisionRate: 2 / 3 });
  assert.deepEqual(r.impact.challenger, { n: 2, labeled: 2, positiveRate: 0.5, ci: [0.5 - Z95 * se, 0.5 + Z95 * se], decisionRate: 0.5 });
  const half = Z95 * Math.sqrt(se ** 2 + se ** 2);
  assert.equal(r.impact.challengerVsChampion.diff, 0);
  close(r.impact.challengerVsChampion.ci![0], -half, 'delta lo');
  close(r.impact.challengerVsChampion.ci![1], half, 'delta hi');
  assert.equal(r.impact.challengerVsChampion.pValue, 1);
  assert.deepEqual(r.flags, ['low_shadow_coverage', 'insufficient_labels']);
  assert.equal(r.verdict, 'insufficient_data');
});

/** Splits the records over rotated and per-worker files and the outcomes over two files. */
function writeRandom(dir: string, seed: number, n: number, calibrated = false) {
  const logs = randomLogs(seed, n, { calibrated });
  const third = Math.ceil(logs.pairs.length / 3);
  const split = Math.floor(logs.outcomes.length * 0.7);
  writeLogs(dir, {
    'pairs.1.jsonl': logs.pairs.slice(0, third),
    'pairs-w1.jsonl': logs.pairs.slice(third, 2 * third),
    'pairs-w2.3.jsonl': logs.pairs.slice(2 * third),
    'events.jsonl': logs.events,
    'outcomes.jsonl': logs.outcomes.slice(0, split),
  });
  const extra = path.join(dir, 'more-outcomes.jsonl');
  writeLogs(dir, { 'more-outcomes.jsonl': logs.outcomes.slice(split) });
  return { logs, extra, split };
}

for (const [seed, n, opts] of [[1, 300, {}], [2, 600, { segment: 'country' }], [3, 450, { calibrated: true, segment: 'tier' }]] as const) {
  test(`agrees with the reference implementation of definitions 1–10 (seed ${seed}, ${n} records)`, async (t) => {
    const dir = tempDir(t);
    const { logs, extra, split } = writeRandom(dir, seed, n, 'calibrated' in opts);
    const segment = 'segment' in opts ? opts.segment : undefined;
    const r = await buildReport({ logs: dir, outcomes: [extra], ...(segment ? { segment } : {}) });
    const expected = referenceReport({
      pairs: logs.pairs,
      events: logs.events,
      outcomeFiles: [logs.outcomes.slice(0, split), logs.outcomes.slice(split)],
      ...(segment ? { segment } : {}),
    });
    assert.equal(diff(r, expected), null);
    // The data really exercises the branches it is meant to.
    assert.ok(r.window.rejected > 0 && r.labels.outcomes.rejected > 0 && r.labels.n > 50);
    assert.ok(Object.keys(r.models.champion.errors.byKind).length >= 3);
    if ('calibrated' in opts) assert.ok(r.labels.atThreshold && r.models.challenger.normalized);
  });
}

test('since/until filter records by time (since inclusive, until exclusive; ISO or epoch ms)', async (t) => {
  const dir = tempDir(t);
  const { logs, extra, split } = writeRandom(dir, 4, 300);
  const since = logs.pairs[50]!.time as number;
  const until = logs.pairs[200]!.time as number;
  const sinceIso = new Date(since).toISOString();
  const r = await buildReport({ logs: dir, outcomes: [extra], since, until });
  const expected = referenceReport({ pairs: logs.pairs, events: logs.events, outcomeFiles: [logs.outcomes.slice(0, split), logs.outcomes.slice(split)], since, until });
  assert.equal(diff(r, expected), null);
  assert.equal(r.window.from! >= since && r.window.to! < until, true);

  const cap = io();
  const code = await runReport(['--logs', dir, '--outcomes', extra, '--format', 'json', '--since', sinceIso, '--until', String(until)], cap.io);
  assert.equal(code, 0, cap.err.join(''));
  assert.equal(diff(JSON.parse(cap.out.join('')), expected), null);
});

test('malformed lines are counted in every file, never fatal (an object split over two lines too)', async (t) => {
  const dir = tempDir(t);
  const d = handData();
  writeLogs(dir, {
    'pairs.jsonl': [
      ...d.pairs.slice(0, 3).map((p) => JSON.stringify(p)),
      'not json', '', '   ', '[1,2]', '42', '{', '}', '{"msg":"hello","time":5}',
      ...d.pairs.slice(3).map((p) => JSON.stringify(p)),
      '{"msg":"pair","time":',
    ],
    'events.jsonl': [...d.events, 'oops'],
    'outcomes.jsonl': [...d.outcomes, '{"requestId":'],
  });
  const r = await buildReport({ logs: dir });
  assert.equal(r.window.malformedLines, 8);
  assert.equal(r.window.records, 6);
  assert.equal(r.labels.n, 5);
  assert.equal(r.traffic.srm.config, 'cfg-a');
  assert.notEqual(r.traffic.srm.chi2, null);
});

test('malformed lines without a split object (the typed reader path) are counted exactly', async (t) => {
  const dir = tempDir(t);
  const d = handData();
  writeLogs(dir, {
    'pairs.jsonl': ['garbage', ...d.pairs.map((p) => JSON.stringify(p)), '"a string"', 'null', '{"msg":"pair"} trailing'],
    'outcomes.jsonl': [...d.outcomes, 'nope'],
  });
  const r = await buildReport({ logs: dir });
  assert.equal(r.window.malformedLines, 5);
  assert.equal(r.window.records, 6);
  assert.equal(r.labels.n, 5);
});

test('outcomes: unknown ids ignored, invalid labels rejected and counted, later lines win, requestId before unit', async (t) => {
  const dir = tempDir(t);
  const pairs = [
    pair({ requestId: 'a', unit: 'ua', champion: outcome({ score: 0.9 }) }),
    pair({ requestId: 'b', unit: 'ub' }),
    pair({ requestId: 'c', unit: 'uc' }),
    pair({ requestId: 'd', unit: 'ud' }),
    pair({ requestId: 'e', unit: 'ud' }),
  ];
  writeLogs(dir, {
    'pairs.jsonl': pairs,
    'outcomes.jsonl': [
      { requestId: 'a', label: 0 },
      { requestId: 'nobody', label: 1 },
      { unit: 'nobody', label: 1 },
      { requestId: 'b', label: 2 },
      { requestId: 'b', label: '1' },
      { requestId: 'b', label: null },
      { requestId: 'b' },
      { label: 1 },
      { unit: 'ua', label: 1 },
      { unit: 'ud', label: 1 },
      { requestId: 'e', label: true },
      { msg: 'something else', requestId: 'c', label: 1 },
    ],
  });
  const more = path.join(dir, 'late.jsonl');
  writeLogs(dir, { 'late.jsonl': [{ msg: 'outcome', requestId: 'a', label: 1 }, { unit: 'ud', label: 0 }] });
  const r = await buildReport({ logs: dir, outcomes: [more] });
  // a: 0 then 1 in the later file → 1 (its unit's label never applies); b: only invalid labels;
  // c: the line is not an outcome; d: unit ud → 0 (later file); e: its own request label 1.
  assert.deepEqual(r.labels.outcomes, { accepted: 8, rejected: 5 });
  assert.equal(r.labels.n, 3);
  assert.equal(r.labels.champion.positives, 2);
  assert.equal(r.impact.champion.labeled, 3);
  assert.equal(r.impact.champion.positiveRate, 2 / 3);
});

test('every pairs*.jsonl is read: rotated, per-worker and rotated per-worker files', async (t) => {
  const dir = tempDir(t);
  const files = ['pairs.jsonl', 'pairs.1.jsonl', 'pairs.2.jsonl', 'pairs-w1.jsonl', 'pairs-w2.jsonl', 'pairs-w2.1.jsonl'];
  files.forEach((f, i) => writeLogs(dir, { [f]: Array.from({ length: i + 1 }, () => pair()) }));
  writeLogs(dir, { 'other.jsonl': [pair()], 'pairs.jsonl.bak': [pair()] });
  fs.writeFileSync(path.join(dir, 'pairs-w3.jsonl'), '');
  const r = await buildReport({ logs: dir });
  assert.equal(r.window.records, 21);
});

test('segments: by fields.FIELD, missing values as "null", numbers by their JSON text', async (t) => {
  const dir = tempDir(t);
  writeLogs(dir, {
    'pairs.jsonl': [
      pair({ fields: { country: 'US', tier: 1 } }),
      pair({ fields: { country: 'US', tier: 2 }, challenger: outcome({ role: 'challenger', score: 0.9, decision: true }), champion: outcome({ score: 0.1, decision: false }) }),
      pair({ fields: { country: 'FR', tier: null } }),
      pair({ fields: {} }),
      pair({}),
    ],
    'outcomes.jsonl': [],
  });
  const r = await buildReport({ logs: dir, segment: 'country' });
  assert.deepEqual(Object.keys(r.segments!).sort(), ['FR', 'US', 'null']);
  assert.equal(r.segments!.US!.n, 2);
  assert.equal(r.segments!.US!.agreement, 0.5);
  assert.equal(r.segments!.null!.n, 2);
  assert.equal(r.segments!.FR!.champion.n, 0);
  const tiers = await buildReport({ logs: dir, segment: 'tier' });
  assert.deepEqual(Object.keys(tiers.segments!).sort(), ['1', '2', 'null']);
  assert.equal(tiers.segments!.null!.n, 3);
});

test('unknown --segment, empty logs, missing directory, no records in the window: exit 2 naming the cause', async (t) => {
  const dir = tempDir(t);
  writeLogs(dir, { 'pairs.jsonl': [pair({ time: T0, fields: { country: 'US' } })] });
  const cases: [string[], RegExp][] = [
    [['--logs', dir, '--segment', 'plan'], /--segment plan: no record has fields\.plan/],
    [['--logs', path.join(dir, 'missing')], /--logs .*missing: no such directory/],
    [['--logs', dir, '--since', String(T0 + 1)], /no pair records in the --since\/--until window/],
    [['--logs', dir, '--outcomes', path.join(dir, 'nope.jsonl')], /--outcomes .*nope\.jsonl: no such file/],
  ];
  for (const [args, message] of cases) {
    const cap = io();
    assert.equal(await runReport(args, cap.io), 2, args.join(' '));
    assert.match(cap.err.join(''), message);
    assert.equal(cap.out.join(''), '');
  }
  const empty = path.join(dir, 'empty');
  writeLogs(empty, { 'pairs.jsonl': [], 'outcomes.jsonl': [] });
  const cap = io();
  assert.equal(await runReport(['--logs', empty], cap.io), 2);
  assert.match(cap.err.join(''), /--logs .*empty: no pair records/);
  const none = path.join(dir, 'none');
  fs.mkdirSync(none);
  const cap2 = io();
  assert.equal(await runReport(['--logs', none], cap2.io), 2);
  assert.match(cap2.err.join(''), /no pairs\*\.jsonl files/);
});

test('usage errors exit 2 naming the flag; --help exits 0', async () => {
  const cases: [string[], RegExp][] = [
    [['--logs', '.', '--bogus'], /unknown flag --bogus/],
    [[], /--logs DIR is required/],
    [['--logs'], /flag --logs needs a value/],
    [['--logs', '.', '--format', 'xml'], /--format: must be text, json or html/],
    [['--logs', '.', '--since', 'last tuesday'], /--since: "last tuesday" is neither ISO 8601/],
    [['--logs', '.', '--since', '2026-01-02', '--until', '2026-01-01'], /--since .* must be earlier than --until/],
    [['--logs', '.', 'stray'], /unexpected argument stray/],
  ];
  for (const [args, message] of cases) {
    const cap = io();
    assert.equal(await runReport(args, cap.io), 2, args.join(' '));
    assert.match(cap.err.join(''), message);
  }
  const cap = io();
  assert.equal(await runReport(['--help'], cap.io), 0);
  assert.match(cap.out.join(''), /Usage: ccrouter report --logs DIR/);
});

test('--since/--until: epoch ms or ISO 8601; a date-time without offset is UTC', () => {
  const noon = Date.UTC(2026, 4, 1, 12);
  assert.equal(parseTime('--since', '1790000000000'), 1_790_000_000_000);
  assert.equal(parseTime('--since', '2026-05-01'), Date.UTC(2026, 4, 1));
  for (const v of ['2026-05-01T12:00', '2026-05-01 12:00:00', '2026-05-01T12:00:00Z', '2026-05-01T14:00:00+02:00', '2026-05-01T12:00:00.000Z']) {
    assert.equal(parseTime('--since', v), noon, v);
  }
  for (const v of ['2026-13-01', 'May 1 2026', '', 'now']) assert.throws(() => parseTime('--until', v), /--until/);
});

test('SRM: zero expected share with records in it; no announcing event; ties go to the config seen last', async (t) => {
  const dir = tempDir(t);
  writeLogs(dir, {
    'pairs.jsonl': [
      pair({ time: T0 + 1, config: 'old', group: 'champion' }),
      pair({ time: T0 + 2, config: 'old', group: 'challenger' }),
      pair({ time: T0 + 3, config: 'new', group: 'champion' }),
      pair({ time: T0 + 4, config: 'new', group: 'challenger' }),
    ],
    'events.jsonl': [
      { msg: 'event', type: 'start', config: 'old', traffic: { control: 0, challenger: 0.5 } },
      { msg: 'event', type: 'rollback', config: 'new', traffic: { control: 0, challenger: 0 } },
      { msg: 'event', type: 'config_loaded', config: 'new', traffic: { control: 0, challenger: 0.5 } },
    ],
  });
  const r = await buildReport({ logs: dir });
  // 'new' ties 'old' on records and was seen last; its first event says no challenger traffic.
  assert.deepEqual(r.traffic.srm, { config: 'new', chi2: null, pValue: 0, flag: true });
  fs.writeFileSync(path.join(dir, 'events.jsonl'), '');
  const r2 = await buildReport({ logs: dir });
  assert.deepEqual(r2.traffic.srm, { config: 'new', chi2: null, pValue: null, flag: null });
  fs.rmSync(path.join(dir, 'events.jsonl'));
  const r3 = await buildReport({ logs: dir });
  assert.deepEqual(r3.traffic.srm, { config: 'new', chi2: null, pValue: null, flag: null });
  assert.deepEqual(srmTest([0, 1, 1], [0, 1, 0]), { chi2: null, pValue: 0, flag: true });
});

test('verdict: the McNemar branches decide, with at least 100 paired labelled records', async (t) => {
  const dir = tempDir(t);
  const pairs: any[] = [];
  const outcomes: any[] = [];
  // 150 records both right, 30 only the challenger right, 10 only the champion right.
  const add = (n: number, champRight: boolean, challRight: boolean) => {
    for (let i = 0; i < n; i++) {
      const p = pair({ champion: outcome({ score: champRight ? 0.9 : 0.1 }), challenger: outcome({ role: 'challenger', score: challRight ? 0.9 : 0.1 }) });
      pairs.push(p);
      outcomes.push({ requestId: p.requestId, label: 1 });
    }
  };
  add(150, true, true);
  add(30, false, true);
  add(10, true, false);
  writeLogs(dir, { 'pairs.jsonl': pairs, 'outcomes.jsonl': outcomes });
  const r = await buildReport({ logs: dir });
  assert.deepEqual(
    { ...r.labels.paired, clusteredPValue: 0, sequentialPValue: 0 },
    { n: 190, championOnlyCorrect: 10, challengerOnlyCorrect: 30, pValue: mcnemar(10, 30).pValue, clusteredPValue: 0, sequentialPValue: 0 },
  );
  assert.equal(r.verdict, 'challenger_better');
});

test('text and html render: verdict and flags first; html self-contained with inline SVG, log values escaped', async (t) => {
  const dir = tempDir(t);
  const { extra } = writeRandom(dir, 5, 400);
  writeLogs(path.join(dir), {
    'pairs-w9.jsonl': [pair({ fields: { country: '<script>alert(1)</script>' } })],
  });
  const text = io();
  assert.equal(await runReport(['--logs', dir, '--outcomes', extra, '--segment', 'country'], text.io), 0, text.err.join(''));
  const t1 = text.out.join('');
  assert.match(t1, /^ccrouter report: m-v1 \(champion\) vs m-v2 \(challenger\)\n\nVERDICT {2}\w+/);
  assert.ok(t1.indexOf('FLAGS') < t1.indexOf('TRAFFIC'));
  assert.match(t1, /SEGMENTS/);

  const out = path.join(dir, 'out', 'report.html');
  const html = io();
  assert.equal(await runReport(['--logs', dir, '--outcomes', extra, '--segment', 'country', '--format', 'html', '--out', out], html.io), 0, html.err.join(''));
  assert.equal(html.out.join(''), '');
  const page = fs.readFileSync(out, 'utf8');
  assert.match(page, /^<!doctype html>/);
  assert.ok((page.match(/<svg/g) ?? []).length >= 4, 'four charts');
  assert.doesNotMatch(page, /https?:\/\//);
  assert.doesNotMatch(page, /<script/i);
  assert.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
});

test('json: one object, plain numbers, never NaN; --out writes the file', async (t) => {
  const dir = tempDir(t);
  // Constant scores: correlations undefined; one class of labels: AUC undefined.
  writeLogs(dir, {
    'pairs.jsonl': [pair(), pair(), pair({ champion: outcome({ score: NaN as unknown as number }) })],
    'outcomes.jsonl': [],
  });
  const out = path.join(dir, 'r.json');
  const cap = io();
  assert.equal(await runReport(['--logs', dir, '--format', 'json', '--out', out], cap.io), 0, cap.err.join(''));
  const textJson = fs.readFileSync(out, 'utf8');
  assert.doesNotMatch(textJson, /NaN|Infinity/);
  const r = JSON.parse(textJson) as Report;
  assert.equal(r.agreement.pearson, null);
  assert.equal(r.agreement.spearman, null);
  assert.equal(r.labels.champion.auc, null);
  assert.equal(r.impact.challengerVsChampion.pValue, null);
  assert.equal(r.verdict, 'insufficient_data');
});

test('progress goes to stderr only when it is a TTY', async (t) => {
  const dir = tempDir(t);
  writeLogs(dir, { 'pairs.jsonl': [pair()] });
  const quiet = io(false);
  assert.equal(await runReport(['--logs', dir, '--format', 'json'], quiet.io), 0);
  assert.equal(quiet.err.join(''), '');
  const loud = io(true);
  assert.equal(await runReport(['--logs', dir, '--format', 'json'], loud.io), 0);
  assert.match(loud.err.join(''), /reading logs… 1 pair file/);
  assert.doesNotThrow(() => JSON.parse(loud.out.join('')));
});

test('labelledScores yields the labelled (version, role, score, label) rows calibrate needs', async (t) => {
  const dir = tempDir(t);
  const d = handData();
  writeLogs(dir, { 'pairs.jsonl': d.pairs, 'outcomes.jsonl': d.outcomes });
  const rows = [];
  for await (const row of labelledScores({ logs: dir })) rows.push(row);
  const key = (x: { version: string; role: string; score: number; label: number }) => `${x.role}:${x.version}:${x.score}:${x.label}`;
  assert.deepEqual(rows.map(key).sort(), [
    'challenger:m-v2:0.1:0', 'challenger:m-v2:0.4:1', 'challenger:m-v2:0.6:0', 'challenger:m-v2:0.7:1', 'challenger:m-v2:0.95:1',
    'champion:m-v1:0.2:0', 'champion:m-v1:0.3:0', 'champion:m-v1:0.8:1', 'champion:m-v1:0.9:1',
  ]);
});
