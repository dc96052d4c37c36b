/**
 * Batch records in the report: each instance is one observation for scores, decisions, agreement,
 * drift and labels; calls, errors, latency and traffic counts stay per record. Expected figures
 * from test/fixtures/report/batch.json, recomputed with numpy/scipy over exploded instances by
 * test/fixtures/report/make-batch-fixture.py (its `command` says how).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { buildReport, labelledScores } from '../../src/commands/report.js';
import { tempDir, writeLogs } from './helpers.js';

type Obj = Record<string, any>;
const fixture = JSON.parse(fs.readFileSync(new URL('../fixtures/report/batch.json', import.meta.url), 'utf8')) as Obj;
const E = fixture.expected as Obj;

function close(actual: unknown, expected: number, what: string): void {
  assert.equal(typeof actual, 'number', `${what}: got ${String(actual)}`);
  assert.ok(Math.abs((actual as number) - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${String(actual)} != ${expected}`);
}

async function report(t: { after: (fn: () => void) => void }): Promise<Obj> {
  const dir = tempDir(t);
  writeLogs(dir, { 'pairs.jsonl': fixture.pairs, 'outcomes.jsonl': fixture.outcomes, 'events.jsonl': fixture.events });
  return (await buildReport({ logs: dir })) as unknown as Obj;
}

test('batch records: records, groups, coverage, fallbacks, calls, errors and latency count per call, not per instance', async (t) => {
  const r = await report(t);
  assert.equal(r.window.records, E.window.records);
  assert.equal(r.window.rejected, E.window.rejected);
  for (const g of ['control', 'champion', 'challenger']) assert.equal(r.traffic.groups[g].n, E.traffic.groups[g], g);
  close(r.traffic.shadowCoverage, E.traffic.shadowCoverage, 'shadowCoverage');
  assert.equal(r.traffic.fallbacks, E.traffic.fallbacks);
  for (const role of ['champion', 'challenger']) {
    const m = r.models[role];
    const e = E.models[role];
    assert.equal(m.calls, e.calls, `${role} calls`);
    close(m.errors.rate, e.errorRate, `${role} errors.rate`);
    for (const k of ['p50', 'p95', 'p99', 'mean']) close(m.latencyMs[k], e.latencyMs[k], `${role} latencyMs.${k}`);
  }
});

test('batch records: scores, decision rates, agreement and drift are over instances', async (t) => {
  const r = await report(t);
  for (const role of ['champion', 'challenger']) {
    const m = r.models[role];
    const e = E.models[role];
    for (const k of ['mean', 'p10', 'p50', 'p90', 'p95', 'p99']) close(m.score[k], e.score[k], `${role} score.${k}`);
    close(m.decisionRate, e.decisionRate, `${role} decisionRate`);
  }
  assert.equal(r.agreement.n, E.agreement.n);
  for (const k of ['decisionAgreement', 'pearson', 'spearman', 'meanAbsDelta']) close(r.agreement[k], E.agreement[k], `agreement.${k}`);
  close(r.drift.psi, E.drift.psi, 'drift.psi');
});

test('batch records: labels per instance (the instance\'s label, else its request\'s, else its unit\'s)', async (t) => {
  const r = await report(t);
  assert.equal(r.labels.n, E.labels.n);
  assert.deepEqual(r.labels.outcomes, E.labels.outcomes);
  for (const role of ['champion', 'challenger']) {
    const m = r.labels[role];
    const e = E.labels[role];
    assert.equal(m.n, e.n, `${role} n`);
    assert.equal(m.positives, e.positives, `${role} positives`);
    for (const k of ['precision', 'recall', 'f1', 'accuracy', 'auc']) close(m[k], e[k], `${role} ${k}`);
  }
  const p = r.labels.paired;
  assert.equal(p.n, E.labels.paired.n);
  assert.equal(p.championOnlyCorrect, E.labels.paired.championOnlyCorrect);
  assert.equal(p.challengerOnlyCorrect, E.labels.paired.challengerOnlyCorrect);
  close(p.pValue, E.labels.paired.pValue, 'paired.pValue');
});

test('batch records: calibrate reads one labelled score per instance', async (t) => {
  const dir = tempDir(t);
  writeLogs(dir, { 'pairs.jsonl': fixture.pairs, 'outcomes.jsonl': fixture.outcomes, 'events.jsonl': fixture.events });
  const n = { champion: 0, challenger: 0 };
  for await (const row of labelledScores({ logs: dir })) n[row.role]++;
  assert.deepEqual(n, { champion: E.labels.champion.n, challenger: E.labels.challenger.n });
});

test('hostile batch fields: wrong types, absurd counts, short lists and huge values never fail the report or change a record count', async (t) => {
  const dir = tempDir(t);
  const base = fixture.pairs[0] as Obj;
  const line = (i: number, over: Obj) => ({ ...base, requestId: `h${i}`, time: base.time + i, ...over });
  const good = { version: 'v7', status: 200, latencyMs: 5, score: null, decision: null, error: null, scores: [0.2, 0.9], decisions: [false, true] };
  const lines = [
    line(0, { instances: 2, champion: good, challenger: { ...good, scores: 'abc', decisions: { a: 1 } } }),
    line(1, { instances: 'two', champion: good, challenger: good }),
    line(2, { instances: 1e12, champion: good, challenger: good }),
    line(3, { instances: 3, champion: good, challenger: { ...good, scores: [0.5] } }),
    line(4, { instances: 2, champion: { ...good, scores: [1e300, 0.5], normalized: { x: 1 } }, challenger: { ...good, normalized: [0.1, 'x'] } }),
    line(5, { instances: 2.5, champion: good, challenger: good }),
    line(6, { instances: -2, champion: good, challenger: good }),
  ];
  writeLogs(dir, { 'pairs.jsonl': lines, 'outcomes.jsonl': [{ requestId: 'h3', instance: 2, label: 1 }, { requestId: 'h3', instance: '2', label: 0 }], 'events.jsonl': [] });
  const r = (await buildReport({ logs: dir })) as unknown as Obj;
  assert.equal(r.window.records, lines.length, 'every line is one record');
  assert.equal(r.window.malformedLines, 0);
  assert.equal(r.window.outOfRange, 1, 'the 1e300 in a scores list');
  assert.deepEqual(r.labels.outcomes, { accepted: 1, rejected: 1 }, 'an instance given as a string is rejected');
  assert.equal(r.labels.n, 1, 'instance 2 of h3: the one labelled observation');
});
