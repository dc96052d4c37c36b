import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { Metrics } from '../../src/metrics.js';
import { ROOT } from '../helpers/cli.js';

const PROMTOOL = '/usr/bin/promtool';
const NO_PROMTOOL = fs.existsSync(PROMTOOL) ? false : `${PROMTOOL} is not installed (Debian package prometheus): the rule checks are skipped`;
if (NO_PROMTOOL) process.stderr.write(`# ${NO_PROMTOOL}\n`);

const DIR = path.join(ROOT, 'deploy/prometheus');
const RULES = 'ccrouter-rules.yml';
const TESTS = fs.readdirSync(DIR).filter((f) => f.endsWith('.test.yml')).sort();

function promtool(args: string[]): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, args, { cwd: DIR, encoding: 'utf8' });
  return { status: r.status, output: r.stdout + r.stderr };
}

interface Rule { alert?: string; record?: string; expr: string }
const rules: Rule[] = (parse(fs.readFileSync(path.join(DIR, RULES), 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);

test('promtool check rules: the fleet rules are valid', { skip: NO_PROMTOOL }, () => {
  const r = promtool(['check', 'rules', RULES]);
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, new RegExp(`SUCCESS: ${rules.length} rules found`));
});

test('promtool test rules: each alert fires on the series that should fire it, and only then', { skip: NO_PROMTOOL, timeout: 120_000 }, () => {
  assert.ok(TESTS.length > 0);
  const r = promtool(['test', 'rules', ...TESTS]);
  assert.equal(r.status, 0, r.output);
  assert.doesNotMatch(r.output, /FAILED/);
});

test('every alert has a test case in which it fires', () => {
  const fired = new Set<string>();
  for (const file of TESTS) {
    const doc = parse(fs.readFileSync(path.join(DIR, file), 'utf8')) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }> };
    for (const group of doc.tests) for (const c of group.alert_rule_test ?? []) if ((c.exp_alerts ?? []).length > 0) fired.add(c.alertname);
  }
  const alerts = rules.flatMap((r) => (r.alert === undefined ? [] : [r.alert]));
  assert.deepEqual(alerts.filter((a) => !fired.has(a)), []);
});

test('every ccrouter metric the rules read is one that ccrouter exports', async () => {
  const exported = new Set<string>();
  for (const m of await new Metrics({ defaultMetrics: false }).registry.getMetricsAsJSON()) {
    exported.add(m.name);
    if (String(m.type) === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) exported.add(m.name + suffix);
  }
  // Exported with `fleet` only (docs/operations.md, "Metrics").
  for (const name of ['ccrouter_fleet_connected', 'ccrouter_fleet_sync_errors_total']) exported.add(name);
  const read = new Set(rules.flatMap((r) => [...r.expr.matchAll(/\bccrouter_[a-z_]+/g)].map((m) => m[0])));
  assert.ok(read.size >= 8, [...read].join(', '));
  assert.deepEqual([...read].filter((n) => !exported.has(n)), []);
});
