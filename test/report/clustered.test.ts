/**
 * The clustered, value, maturity, matched, sequential and DeLong figures (docs/report.md): against
 * numbers computed with numpy/scipy on fixed logs (test/fixtures/report/make-clustered.py, its
 * command in its header), and against the test reference implementation on random logs.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { buildReport, runReport, type Report } from '../../src/commands/report.js';
import { chi2Sf, srmTest } from '../../src/stats/index.js';
import { verdictOf } from '../../src/report/verdict.js';
import type { VerdictMetric } from '../../src/report/types.js';
import { customerLogs } from './customers.js';
import { io, pair, tempDir, writeLogs } from './helpers.js';
import { diff, referenceReport } from './reference.js';

const FIXTURE = new URL('../fixtures/report/clustered/', import.meta.url).pathname;
const expected = JSON.parse(fs.readFileSync(`${FIXTURE}expected.json`, 'utf8'));
const lines = (name: string) => fs.readFileSync(`${FIXTURE}${name}`, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
const DAY = 86_400_000;

/** The parts of a report the fixture computes, in the fixture's shape. */
function figures(r: Report) {
  return {
    labels: {
      n: r.labels.n, eligible: r.labels.eligible, coverage: r.labels.coverage, matureBefore: r.labels.matureBefore,
      champion: { value: r.labels.champion.value }, challenger: { value: r.labels.challenger.value },
      paired: r.labels.paired, aucTest: r.labels.aucTest, matched: r.labels.matched,
    },
    impact: r.impact,
  };
}

for (const [name, mature] of [['all', undefined], ['mature14d', 14 * DAY]] as const) {
  test(`clustered figures equal numpy/scipy's on customers with several requests over six weeks (${name})`, async () => {
    const r = await buildReport({ logs: FIXTURE, value: 'amount', ...(mature !== undefined ? { mature } : {}) });
    const want = expected[name];
    const { verdicts, ...numbers } = want;
    assert.equal(diff(figures(r), numbers), null);
    assert.equal(diff(r.traffic.srm, expected.traffic.srm), null);
    assert.equal(diff(r.traffic.byConfig, expected.traffic.byConfig), null);
    assert.equal(diff(r.labels.byDay, expected.byDay), null);
    assert.equal(r.verdict, verdicts.accuracy);
    for (const metric of ['auc', 'matched'] as const) {
      const v = await buildReport({ logs: FIXTURE, value: 'amount', verdict: metric, ...(mature !== undefined ? { mature } : {}) });
      assert.equal(v.verdict, verdicts[metric], metric);
    }
    const s = await buildReport({ logs: FIXTURE, sequential: true, ...(mature !== undefined ? { mature } : {}) });
    assert.equal(s.verdict, verdicts.sequential);
    // The second implementation agrees with scipy too.
    const ref = referenceReport({ pairs: lines('pairs.jsonl'), events: lines('events.jsonl'), outcomeFiles: [lines('outcomes.jsonl')], value: 'amount',
      ...(mature !== undefined ? { mature } : {}) });
    assert.equal(diff(figures(ref), numbers), null);
    assert.equal(diff(r, ref), null);
  });
}

test('the fixture exercises what it is meant to: gaps, several requests per customer, a broken ramp step, late labels', async () => {
  const r = await buildReport({ logs: FIXTURE, value: 'amount', mature: 14 * DAY });
  const days = r.labels.byDay.map((d) => Date.parse(d.day) / DAY);
  assert.ok(days.some((d, i) => i > 0 && d - days[i - 1]! > 1), 'a day without traffic');
  assert.ok((r.window.to! - r.window.from!) > 35 * DAY);
  assert.ok(r.labels.paired.n >= 100);
  assert.deepEqual(r.traffic.byConfig.map((c) => c.config), ['cfg-1', 'cfg-2', 'cfg-x', 'cfg-3']);
  assert.deepEqual(r.flags, ['srm_config']);
  // The challenger is right more often, but declines more: at the champion's rate, no difference.
  assert.equal(r.verdict, 'challenger_better');
  assert.equal((await buildReport({ logs: FIXTURE, verdict: 'matched' })).verdict, 'no_significant_difference');
  const recent = r.labels.byDay.slice(-7);
  assert.ok(recent.reduce((s, d) => s + d.labelled, 0) / recent.reduce((s, d) => s + d.records, 0) < 0.5, 'recent labels still missing');
});

for (const [seed, customers, opts] of [
  [1, 60, { value: 'amount' }],
  [2, 90, { value: 'amount', mature: 7 * DAY, verdict: 'auc' as VerdictMetric }],
  [3, 40, { mature: 3 * DAY, verdict: 'matched' as VerdictMetric, sequential: true }],
  [4, 120, { value: 'amount', sequential: true }],
] as const) {
  test(`agrees with the reference implementation on random customers (seed ${seed}, ${customers} customers, ${JSON.stringify(opts)})`, async (t) => {
    const dir = tempDir(t);
    const logs = customerLogs(seed, customers);
    writeLogs(dir, { 'pairs.jsonl': logs.pairs, 'events.jsonl': logs.events, 'outcomes.jsonl': logs.outcomes });
    const r = await buildReport({ logs: dir, ...opts });
    const want = referenceReport({ pairs: logs.pairs, events: logs.events, outcomeFiles: [logs.outcomes], ...opts });
    assert.equal(diff(r, want), null);
    assert.ok(r.labels.aucTest.pValue !== null && r.labels.matched.rate !== null && r.labels.paired.sequentialPValue !== null);
    assert.ok(r.traffic.byConfig.length === 4);
  });
}

test('SRM counts customers, not requests: a correct split over customers sending ~20 requests each is no mismatch', async (t) => {
  const dir = tempDir(t);
  const pairs = [];
  // 40 customers split 20/20 (as configured) but the challenger's customers send more requests:
  // counted per request, this is a glaring mismatch; per customer, it is the configured split.
  for (let u = 0; u < 40; u++) {
    const group = u % 2 === 0 ? 'champion' : 'challenger';
    for (let i = 0; i < (group === 'champion' ? 15 : 25); i++) pairs.push(pair({ unit: `cust-${u}`, group }));
  }
  writeLogs(dir, { 'pairs.jsonl': pairs, 'events.jsonl': [{ msg: 'event', type: 'start', config: 'cfg-a', traffic: { control: 0, challenger: 0.5 } }] });
  const r = await buildReport({ logs: dir });
  assert.equal(srmTest([0, 300, 500], [0, 0.5, 0.5]).flag, true, 'per request it would be flagged');
  assert.deepEqual(r.traffic.srm, { config: 'cfg-a', chi2: 0, pValue: 1, flag: false });
  assert.deepEqual(r.flags.includes('srm'), false);
});

test('records without a unit key, or assigned at random, are each their own cluster', async (t) => {
  const dir = tempDir(t);
  const pairs = [
    ...Array.from({ length: 3 }, () => pair({ unit: 'same', assigned: 'random', group: 'champion' })),
    ...Array.from({ length: 3 }, () => pair({ unit: null, group: 'challenger' })),
  ];
  writeLogs(dir, { 'pairs.jsonl': pairs, 'events.jsonl': [{ msg: 'event', config: 'cfg-a', traffic: { control: 0, challenger: 0.5 } }] });
  const r = await buildReport({ logs: dir });
  assert.deepEqual(r.traffic.srm, { config: 'cfg-a', chi2: 0, pValue: 1, flag: false });
});

test('--value, --mature, --verdict and --sequential on the command line; bad values are usage errors naming the flag', async () => {
  const cap = io();
  assert.equal(await runReport(['--logs', FIXTURE, '--format', 'json', '--value', 'amount', '--mature', '14d', '--verdict', 'auc', '--sequential'], cap.io), 0, cap.err.join(''));
  const r = JSON.parse(cap.out.join('')) as Report;
  assert.equal(r.labels.matureBefore, r.window.to! - 14 * DAY);
  assert.equal(diff(r.impact, expected.mature14d.impact), null);
  assert.equal(r.verdict, expected.mature14d.verdicts.auc);
  const cases: [string[], RegExp][] = [
    [['--value', ''], /--value: needs a field name/],
    [['--value', 'amout'], /--value amout: no record has fields\.amout/],
    [['--mature', 'soon'], /--mature: "soon" is not a duration/],
    [['--mature=-3d'], /--mature: "-3d" is not a duration/],
    [['--mature', '1e400d'], /--mature: "1e400d" is not a duration/],
    [['--verdict', 'f1'], /--verdict: must be accuracy, auc or matched \(got "f1"\)/],
    [['--verdict'], /flag --verdict needs a value/],
    [['--sequential=yes'], /--sequential/],
  ];
  for (const [args, message] of cases) {
    const c = io();
    assert.equal(await runReport(['--logs', FIXTURE, ...args], c.io), 2, args.join(' '));
    assert.match(c.err.join(''), message);
  }
});

test('text and html show the new figures; a hostile config id or amount field reaches neither markup nor SQL', async (t) => {
  const dir = tempDir(t);
  const logs = customerLogs(5, 50);
  const hostile = `</td><script>alert(1)</script>'); DROP TABLE pairs; --`;
  for (const p of logs.pairs.slice(0, 30)) {
    p.config = hostile;
    p.fields[hostile] = 25;
  }
  writeLogs(dir, { 'pairs.jsonl': logs.pairs, 'events.jsonl': [...logs.events, { msg: 'event', config: hostile, traffic: { control: 0.9, challenger: 0 } }],
    'outcomes.jsonl': logs.outcomes });
  const text = io();
  assert.equal(await runReport(['--logs', dir, '--value', hostile, '--mature', '2d'], text.io), 0, text.err.join(''));
  const out = text.out.join('');
  assert.match(out, /per config id/);
  assert.match(out, /clustered [\d.e-]+, sequential/);
  assert.match(out, /DeLong p/);
  assert.match(out, /at the champion's decision rate/);
  assert.match(out, /by day/);
  assert.match(out, /value recall/);
  assert.match(out, /sample ratio mismatch in 1 of 5 config ids/);
  const withValue = io();
  assert.equal(await runReport(['--logs', dir, '--value', 'amount'], withValue.io), 0);
  assert.match(withValue.out.join(''), /value recall/);
  assert.match(withValue.out.join(''), /positive value per request/);
  const html = io();
  assert.equal(await runReport(['--logs', dir, '--value', 'amount', '--format', 'html'], html.io), 0, html.err.join(''));
  const page = html.out.join('');
  assert.doesNotMatch(page, /<script/i);
  assert.match(page, /&lt;\/td&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;&#39;\); DROP TABLE pairs; --/);
  assert.match(page, /Label coverage by day/);
  assert.match(page, /At the champion&#39;s decision rate/);
});

test('an amount of 1e300 does not fail the report (VARSAMP out of range): beyond 1e15 a value counts as 0', async (t) => {
  const dir = tempDir(t);
  const pairs = Array.from({ length: 6 }, (_, i) => pair({ unit: `c-${i % 3}`, fields: { amount: i === 0 ? 1e300 : i === 1 ? 1e15 : 10 } }));
  writeLogs(dir, { 'pairs.jsonl': pairs, 'outcomes.jsonl': pairs.map((p) => ({ requestId: p.requestId, label: 1 })) });
  const r = await buildReport({ logs: dir, value: 'amount' });
  assert.equal(r.impact.champion.value!.total, 1e15 + 40);
  assert.notEqual(r.impact.champion.ci, null);
});

test('one request per customer: SRM is the per-request test, the interval R ± z·√(R(1 − R)/(m − 1)), the clustered McNemar uncorrected', async (t) => {
  const dir = tempDir(t);
  const groups = ['control', 'champion', 'challenger'] as const;
  const pairs = Array.from({ length: 300 }, (_, i) => pair({ group: groups[(i * 7) % 3 === 0 ? 0 : i % 5 < 2 ? 1 : 2],
    challenger: { ...pair().challenger, score: (i % 10) / 10, decision: i % 10 >= 5 } }));
  const labels = pairs.map((p, i) => ({ requestId: p.requestId, label: i % 4 === 0 ? 1 : 0 }));
  writeLogs(dir, { 'pairs.jsonl': pairs, 'outcomes.jsonl': labels,
    'events.jsonl': [{ msg: 'event', config: 'cfg-a', traffic: { control: 0.3, challenger: 0.3 } }] });
  const r = await buildReport({ logs: dir });
  const n = groups.map((g) => pairs.filter((p) => p.group === g).length);
  assert.equal(diff(r.traffic.srm, { config: 'cfg-a', ...srmTest(n, [0.3, 0.4, 0.3]) }, 1e-12), null);
  for (const g of groups) {
    const x = r.impact[g];
    const R = x.positiveRate!;
    const half = 1.959963984540054 * Math.sqrt((R * (1 - R)) / (x.labeled - 1));
    assert.ok(Math.abs(x.ci![0] - (R - half)) < 1e-12 && Math.abs(x.ci![1] - (R + half)) < 1e-12, g);
  }
  const { championOnlyCorrect: b, challengerOnlyCorrect: c } = r.labels.paired;
  assert.ok(b + c > 0);
  assert.ok(Math.abs(r.labels.paired.clusteredPValue! - chi2Sf((c - b) ** 2 / (b + c), 1)) < 1e-12);
  assert.equal(r.verdict === 'insufficient_data' || r.verdict === verdictOf(r.labels), true);
});
