import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { stringify } from 'yaml';
import { loadConfigFile } from '../../src/config/load.js';
import { applyReload } from '../../src/runtime/reload.js';
import { startServer } from '../../src/server.js';
import { spawnCli, waitForLine } from '../helpers/cli.js';
import { scoredProxy, tempDir, testConfig } from '../helpers/proxy.js';
import { scoreBehaviour, startUpstream } from '../helpers/upstream.js';

const PROMTOOL = '/usr/bin/promtool';
const NO_PROMTOOL = fs.existsSync(PROMTOOL) ? false : `${PROMTOOL} is not installed (Debian package prometheus): promtool checks skipped`;
if (NO_PROMTOOL) process.stderr.write(`# ${NO_PROMTOOL}\n`);

/** `promtool check metrics` on `text`: its exit code and everything it printed (warnings included). */
function promtoolCheck(text: string): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: (r.stdout + r.stderr).trim() };
}

async function metricsText(adminUrl: string): Promise<string> {
  const res = await request(adminUrl + '/metrics');
  assert.equal(res.statusCode, 200);
  return res.body.text();
}

async function send(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await request(url + '/predict', { method: 'POST', headers: { 'x-user-id': `u-${i}` }, body: '{}' });
    await res.body.text();
  }
}

test('regression: prom-client\'s nodejs_active_*_total gauges made promtool check metrics warn; a live /metrics passes with no warning', { skip: NO_PROMTOOL, timeout: 30_000 }, async (t) => {
  const ch = await startUpstream(scoreBehaviour(0.8));
  const cl = await startUpstream((_req, res) => { res.writeHead(500); res.end(); });
  t.after(() => ch.close());
  t.after(() => cl.close());
  const dir = tempDir();
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, stringify(testConfig(ch.url, cl.url, path.join(dir, 'logs'), {
    traffic: { control: 0.1, challenger: 0.4 },
    guardrails: { window: 1000, minSamples: 500, maxErrorRate: 0.5 },
  })));
  // Node's default process metrics on, as `serve` runs.
  const server = await startServer(loadConfigFile(file), { env: {} });
  t.after(() => server.shutdown());
  await send(server.url, 20);
  const text = await metricsText(server.adminUrl!);
  assert.doesNotMatch(text, /^nodejs_active_\w+_total/m);
  assert.match(text, /^nodejs_active_handles\{/m, 'the per-type gauges stay');
  assert.deepEqual(promtoolCheck(text), { status: 0, output: '' });
});

test('serve --workers 2: the primary\'s aggregated /metrics passes promtool check metrics with no warning', { skip: NO_PROMTOOL, timeout: 60_000 }, async (t) => {
  const ch = await startUpstream(scoreBehaviour(0.8));
  const cl = await startUpstream(scoreBehaviour(0.3));
  t.after(() => ch.close());
  t.after(() => cl.close());
  const dir = tempDir();
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, stringify(testConfig(ch.url, cl.url, path.join(dir, 'logs'), { traffic: { challenger: 0.5 } })));
  const child = spawnCli(['serve', '--config', file, '--workers', '2']);
  t.after(() => { child.kill('SIGKILL'); });
  const [, url, adminUrl] = await waitForLine(child, /serving on (http:\/\/\S+) \(admin (http:\/\/[^)]+)\)/);
  await send(url!, 10);
  const text = await metricsText(adminUrl!);
  assert.deepEqual(promtoolCheck(text), { status: 0, output: '' });
  assert.equal(text.match(/^ccrouter_info\{/gm)?.length, 1, 'one info series, not one per process');
  assert.match(text, /^ccrouter_info\{[^}]*\} 1$/m);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('regression: labelled metrics appeared only at their first event; every label value is exported at 0 from start-up', async (t) => {
  const { p } = await scoredProxy(t);
  const text = await metricsText(p.adminUrl!);
  const zero = (series: string) => assert.ok(text.split('\n').includes(`${series} 0`), `${series} 0 in\n${text}`);
  for (const [group, served] of [['none', 'none'], ['control', 'champion'], ['champion', 'champion'], ['challenger', 'challenger'], ['challenger', 'champion']]) {
    zero(`ccrouter_requests_total{route="POST /predict",group="${group}",served="${served}"}`);
  }
  for (const model of ['champion', 'challenger']) {
    for (const kind of ['timeout', 'connect', 'status', 'parse', 'too_large', 'canceled']) zero(`ccrouter_upstream_errors_total{model="${model}",kind="${kind}"}`);
    for (const decision of ['true', 'false']) zero(`ccrouter_decisions_total{model="${model}",decision="${decision}"}`);
    zero(`ccrouter_upstream_duration_seconds_count{model="${model}"}`);
    zero(`ccrouter_score_count{model="${model}"}`);
  }
  for (const agree of ['true', 'false']) zero(`ccrouter_agreement_total{agree="${agree}"}`);
  for (const result of ['loaded', 'rejected']) zero(`ccrouter_config_reloads_total{result="${result}"}`);
  for (const rule of ['error_rate', 'latency_p99_ratio', 'decision_rate_ratio', 'score_psi']) zero(`ccrouter_guardrail_trips_total{rule="${rule}"}`);
  for (const group of ['control', 'champion', 'challenger']) assert.match(text, new RegExp(`^ccrouter_traffic_fraction\\{group="${group}"\\} `, 'm'));
});

test('ccrouter_info names the effective config and both versions, and follows a reload, a new route and a rollback', async (t) => {
  const ch = await startUpstream(scoreBehaviour(0.8));
  const cl = await startUpstream(scoreBehaviour(0.3));
  t.after(() => ch.close());
  t.after(() => cl.close());
  const dir = tempDir();
  const file = path.join(dir, 'c.yaml');
  const write = (extra: Record<string, unknown>) => fs.writeFileSync(file, stringify(testConfig(ch.url, cl.url, path.join(dir, 'logs'), extra)));
  write({ traffic: { challenger: 0.2 } });
  const server = await startServer(loadConfigFile(file), { env: {}, defaultMetrics: false });
  t.after(() => server.shutdown());
  const info = async () => [...(await metricsText(server.adminUrl!)).matchAll(/^ccrouter_info\{(.*)\} (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
  const rt = server.runtime;
  assert.deepEqual(await info(), [`config="${rt.snapshot.id}",champion_version="v-champ",challenger_version="v-chall" 1`]);

  write({
    traffic: { challenger: 0.3 },
    models: { champion: { url: ch.url, version: 'fraud-v7' }, challenger: { url: cl.url, version: 'fraud-v9' } },
    routes: [{ method: 'POST', path: '/predict', score: '/score' }, { method: 'POST', path: '/rank', score: '/score' }],
  });
  await applyReload(rt, file, false);
  assert.deepEqual(await info(), [`config="${rt.snapshot.id}",champion_version="fraud-v7",challenger_version="fraud-v9" 1`]);
  assert.match(await metricsText(server.adminUrl!), /^ccrouter_requests_total\{route="POST \/rank",group="challenger",served="challenger"\} 0$/m);

  const before = rt.snapshot.id;
  rt.rollback('admin');
  assert.notEqual(rt.snapshot.id, before);
  assert.deepEqual(await info(), [`config="${rt.snapshot.id}",champion_version="fraud-v7",challenger_version="fraud-v9" 1`]);
});
