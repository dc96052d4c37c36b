import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { stringify } from 'yaml';
import { scoreBehaviour, startUpstream } from '../helpers/upstream.js';
import { readJsonl, tempDir, testConfig } from '../helpers/proxy.js';
import { spawnCli, waitForLine } from '../helpers/cli.js';

const TOKEN = 'worker-token';

async function post(url: string, user: string) {
  // A new connection per request, so the primary spreads them over the workers.
  const res = await request(url + '/predict', { method: 'POST', headers: { 'x-user-id': user, connection: 'close' }, body: '{}' });
  await res.body.text();
  return res;
}

async function admin(url: string, method: 'GET' | 'POST', p: string, body?: string) {
  const res = await request(url + p, { method, headers: { authorization: `Bearer ${TOKEN}` }, body });
  return res.body.text().then((t) => (p === '/metrics' ? t : JSON.parse(t)));
}

test('serve --workers 2: shared port, one pair file per worker, levers and status across workers, graceful exit', { timeout: 90_000 }, async (t) => {
  const ch = await startUpstream(scoreBehaviour(0.8));
  let failing = false;
  const cl = await startUpstream((req, res) => {
    if (failing) { res.writeHead(500); res.end(); return; }
    return scoreBehaviour(0.3)(req, res);
  });
  t.after(() => ch.close());
  t.after(() => cl.close());
  const dir = tempDir();
  const logs = path.join(dir, 'logs');
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, stringify(testConfig(ch.url, cl.url, logs, {
    traffic: { control: 0.1, challenger: 0.4 },
    assignment: { unit: 'header:x-user-id', salt: 'w', seed: 3 },
    guardrails: { window: 40, minSamples: 20, maxErrorRate: 0.2 },
  })));
  const child = spawnCli(['serve', '--config', file, '--workers', '2'], { CCROUTER_TEST_TOKEN: TOKEN });
  t.after(() => { child.kill('SIGKILL'); });
  const [, url, adminUrl] = await waitForLine(child, /serving on (http:\/\/\S+) \(admin (http:\/\/[^)]+)\)/);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));

  // Same unit, same group, whichever worker serves it.
  const groups = new Set<string>();
  for (let i = 0; i < 10; i++) groups.add(String((await post(url!, 'sticky')).headers['x-ccrouter-group']));
  assert.equal(groups.size, 1);
  for (let i = 0; i < 90; i++) await post(url!, `u-${i}`);
  await new Promise((r) => setTimeout(r, 300)); // workers report every 100 ms
  const status = await admin(adminUrl!, 'GET', '/status');
  const c = status.counters.requests;
  assert.equal(c.control + c.champion + c.challenger, 100, JSON.stringify(status.counters));
  const metrics: string = await admin(adminUrl!, 'GET', '/metrics');
  const total = [...metrics.matchAll(/^ccrouter_requests_total\{[^}]*\} (\d+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
  assert.equal(total, 100, 'metrics aggregated over workers');
  assert.match(metrics, /ccrouter_traffic_fraction\{group="challenger"\} 0\.4\b/);

  // Kill switch from the primary reaches every worker.
  await admin(adminUrl!, 'POST', '/bypass', '{"on":true}');
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 10; i++) assert.equal((await post(url!, `b-${i}`)).headers['x-ccrouter-group'], undefined);
  await admin(adminUrl!, 'POST', '/bypass', '{"on":false}');
  await new Promise((r) => setTimeout(r, 100));

  // Guardrails run in the primary over every worker's records: a failing challenger is rolled back everywhere.
  failing = true;
  for (let i = 0; i < 60; i++) await post(url!, `g-${i}`);
  let after: { traffic: { challenger: number }; guardrails: { tripped: boolean; rule: string } } | undefined;
  for (let i = 0; i < 50; i++) {
    after = await admin(adminUrl!, 'GET', '/status');
    if (after!.guardrails.tripped) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(after!.guardrails, { tripped: true, rule: 'error_rate' });
  assert.equal(after!.traffic.challenger, 0);
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 20; i++) assert.notEqual((await post(url!, `r-${i}`)).headers['x-ccrouter-group'], 'challenger');

  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  const w1 = readJsonl(path.join(logs, 'pairs-w1.jsonl'));
  const w2 = readJsonl(path.join(logs, 'pairs-w2.jsonl'));
  assert.ok(w1.length > 0 && w2.length > 0, `both workers served: ${w1.length} / ${w2.length}`);
  assert.equal(w1.length + w2.length, 100 + 60 + 20, 'every answered scored request outside bypass has its record');
  assert.equal(fs.existsSync(path.join(logs, 'pairs.jsonl')), false);
  const events = readJsonl(path.join(logs, 'events.jsonl'));
  assert.deepEqual(events.map((e) => e.type), ['start', 'bypass', 'bypass', 'guardrail_tripped', 'rollback', 'shutdown']);
  const rollbackId = events[4]!.config;
  const lastRecords = [...w1, ...w2].filter((r) => String(r.unit).startsWith('r-'));
  assert.ok(lastRecords.every((r) => r.config === rollbackId), 'workers stamp the id the primary announced');
});
