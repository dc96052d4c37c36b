/**
 * Durability: records survive SIGKILL (but for the last flush window), uncaught errors, a full disk,
 * and rapid reloads; secrets never reach a log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Pool, request } from 'undici';
import { stringify } from 'yaml';
import { loadConfigFile } from '../../src/config/load.js';
import { applyReload } from '../../src/runtime/reload.js';
import { startServer } from '../../src/server.js';
import { scoreBehaviour, startUpstream } from '../helpers/upstream.js';
import { BUFFER_BYTES } from '../../src/records/sink.js';
import { readJsonl, startProxy, tempDir, testConfig } from '../helpers/proxy.js';
import { ROOT, spawnCli, waitForLine } from '../helpers/cli.js';

async function models(t: { after(fn: () => Promise<void>): void }) {
  const ch = await startUpstream(scoreBehaviour(0.8));
  const cl = await startUpstream(scoreBehaviour(0.3));
  t.after(() => ch.close());
  t.after(() => cl.close());
  return { ch, cl };
}

async function load(url: string, n: number, prefix: string): Promise<number> {
  const pool = new Pool(url, { connections: 8 });
  let ok = 0;
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    for (let i = w; i < n; i += 8) {
      const res = await pool.request({ method: 'POST', path: '/predict', headers: { 'x-user-id': `${prefix}-${i}` }, body: '{}' });
      await res.body.text();
      if (res.statusCode === 200) ok++;
    }
  }));
  await pool.close();
  return ok;
}

test('SIGKILL: every line but possibly the last parses, and at most one flush window is lost', { timeout: 30_000 }, async (t) => {
  const { ch, cl } = await models(t);
  const dir = tempDir();
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, stringify(testConfig(ch.url, cl.url, path.join(dir, 'logs'))));
  const child = spawnCli(['serve', '--config', file]);
  const [, url] = await waitForLine(child, /serving on (http:\/\/\S+)/);
  const answered = await load(url!, 400, 'k');
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGKILL');
  await exited;
  const text = fs.readFileSync(path.join(dir, 'logs', 'pairs.jsonl'), 'utf8');
  const lines = text.split('\n');
  const complete = text.endsWith('\n') ? lines.slice(0, -1) : lines.slice(0, -1);
  for (const l of complete) JSON.parse(l); // throws on a corrupt line
  const lost = answered - complete.length;
  const avg = Buffer.byteLength(complete[0] ?? '') + 1;
  assert.ok(lost >= 0, 'no record invented');
  // The async buffer holds at most BUFFER_BYTES before it is written out.
  assert.ok(lost * avg <= BUFFER_BYTES + avg, `lost ${lost} records (~${lost * avg} bytes), more than one flush window`);
});

test('uncaught error: buffered records are flushed before the process exits', { timeout: 30_000 }, async (t) => {
  const { ch, cl } = await models(t);
  const dir = tempDir();
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, stringify(testConfig(ch.url, cl.url, path.join(dir, 'logs'))));
  // A preload that throws from a timer on demand (SIGUSR2): an uncaught error from outside ccrouter's code.
  const preload = path.join(dir, 'crash.mjs');
  fs.writeFileSync(preload, "process.on('SIGUSR2', () => setTimeout(() => { throw new Error('injected crash'); }, 0));\n");
  const child = spawnCli(['serve', '--config', file], { NODE_OPTIONS: `--import=${preload}` });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const [, url] = await waitForLine(child, /serving on (http:\/\/\S+)/);
  const answered = await load(url!, 50, 'c');
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.kill('SIGUSR2');
  assert.equal(await exited, 1);
  assert.match(stderr, /injected crash/);
  const records = readJsonl(path.join(dir, 'logs', 'pairs.jsonl'));
  assert.equal(records.length, answered);
  assert.ok(fs.existsSync(ROOT));
});

test('log disk full (pairs file on /dev/full): serving continues, failures counted and told once, shutdown does not hang', { skip: !fs.existsSync('/dev/full') && 'no /dev/full', timeout: 30_000 }, async (t) => {
  const { ch, cl } = await models(t);
  const dir = tempDir();
  fs.symlinkSync('/dev/full', path.join(dir, 'pairs.jsonl'));
  const stderrWrite = process.stderr.write.bind(process.stderr);
  const told: string[] = [];
  process.stderr.write = ((chunk: string) => { told.push(String(chunk)); return true; }) as typeof process.stderr.write;
  t.after(() => { process.stderr.write = stderrWrite; });
  const p = await startProxy(testConfig(ch.url, cl.url, dir));
  const ok = await load(p.url, 200, 'f');
  assert.equal(ok, 200, 'every request answered');
  await new Promise((r) => setTimeout(r, 200));
  const status = (await (await request(p.adminUrl + '/status')).body.json()) as { counters: { logWriteErrors: number } };
  assert.ok(status.counters.logWriteErrors >= 1);
  const metrics = await (await request(p.adminUrl + '/metrics')).body.text();
  const m = /ccrouter_log_write_errors_total (\d+)/.exec(metrics);
  assert.ok(m && Number(m[1]) === status.counters.logWriteErrors);
  await p.shutdown();
  process.stderr.write = stderrWrite;
  const lines = told.filter((l) => l.includes('cannot write'));
  assert.equal(lines.length, 1, `told once: ${told.join('')}`);
  assert.match(lines[0]!, /pairs\.jsonl.*ENOSPC/);
});

test('50 rapid reloads under load: every record carries the config id whose fractions assigned it', { timeout: 60_000 }, async (t) => {
  const { ch, cl } = await models(t);
  const dir = tempDir();
  const file = path.join(dir, 'c.yaml');
  const logs = path.join(dir, 'logs');
  const write = (challenger: number) => fs.writeFileSync(file, stringify(testConfig(ch.url, cl.url, logs, { traffic: { control: 0, challenger } })));
  write(0);
  const server = await startServer(loadConfigFile(file), { env: {}, defaultMetrics: false });
  const traffic = load(server.url, 1500, 'r');
  for (let i = 1; i <= 50; i++) {
    write(i % 2);
    await applyReload(server.runtime, file, false);
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(await traffic, 1500);
  await server.shutdown();
  const fractions = new Map<string, number>();
  for (const e of readJsonl(path.join(logs, 'events.jsonl'))) fractions.set(e.config, e.traffic.challenger);
  assert.equal(fractions.size, 2, 'two distinct effective configs');
  const records = readJsonl(path.join(logs, 'pairs.jsonl'));
  assert.equal(records.length, 1500);
  for (const r of records) assert.equal(r.group, fractions.get(r.config) === 1 ? 'challenger' : 'champion', `record ${r.requestId} under ${r.config}`);
  const loaded = readJsonl(path.join(logs, 'events.jsonl')).filter((e) => e.type === 'config_loaded');
  assert.equal(loaded.length, 50);
});

test('secrets never reach a log: token, authorization, cookie and redacted fields appear 0 times', async (t) => {
  const { ch, cl } = await models(t);
  const dir = tempDir();
  const canary = { token: 'CANARY-TOKEN-7f3a', auth: 'CANARY-AUTH-91bd', cookie: 'CANARY-COOKIE-55e0', ssn: 'CANARY-SSN-0c4d' };
  const stderrWrite = process.stderr.write.bind(process.stderr);
  const stdoutWrite = process.stdout.write.bind(process.stdout);
  let captured = '';
  process.stderr.write = ((c: string) => { captured += c; return true; }) as typeof process.stderr.write;
  process.stdout.write = ((c: string) => { captured += c; return stdoutWrite(c); }) as typeof process.stdout.write;
  t.after(() => { process.stderr.write = stderrWrite; process.stdout.write = stdoutWrite; });
  const p = await startProxy(testConfig(ch.url, cl.url, dir, { logging: { dir, bodies: true, redact: ['/ssn'] } }), { CCROUTER_TEST_TOKEN: canary.token });
  const res = await request(p.url + '/predict', { method: 'POST', headers: { authorization: `Bearer ${canary.auth}`, cookie: `s=${canary.cookie}` }, body: JSON.stringify({ ssn: canary.ssn }) });
  await res.body.text();
  for (const auth of [`Bearer ${canary.token}`, `Bearer ${canary.auth}`]) {
    const r = await request(p.adminUrl + '/outcomes', { method: 'POST', headers: { authorization: auth, cookie: canary.cookie }, body: '{"unit":"u","label":1}' });
    await r.body.text();
  }
  await p.shutdown();
  process.stderr.write = stderrWrite;
  process.stdout.write = stdoutWrite;
  const files = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
  assert.ok(files.includes('[REDACTED]'));
  for (const value of Object.values(canary)) {
    assert.equal(files.split(value).length - 1, 0, `${value} in a log file`);
    assert.equal(captured.split(value).length - 1, 0, `${value} on stdout/stderr`);
  }
});
