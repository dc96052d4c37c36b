/**
 * Values from the environment never reach an output: a `${VAR}` often holds a secret (a model's
 * token, a password in a URL), so every message names such a value by its source (`${VAR}`) and
 * `check` prints it as written. Each test plants canary values and searches every output for them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfigFile } from '../../src/config/load.js';
import { applyReload } from '../../src/runtime/reload.js';
import { startServer } from '../../src/server.js';
import { runCli, spawnCli, waitForLine } from '../helpers/cli.js';
import { readJsonl, tempDir, testConfig } from '../helpers/proxy.js';
import { scoreBehaviour, startUpstream } from '../helpers/upstream.js';

/** One canary per error path: each variable's text must appear in no output. */
const CANARIES: Record<string, string> = {
  PORT_TEXT: 'port-canary-1111',
  ADMIN_PORT: '4242.5',
  URL_HOST: 'url-canary-2222',
  URL_PASS: 'pass-canary-3333',
  TIMEOUT: 'dur-canary-4444',
  METHOD: 'bad method canary',
  POINTER: 'ptr-canary-5555',
  FALLBACK: 'enum-canary-6666',
  HDR: 'hdr canary 7777',
  CONTROL: '0.6123',
  SIZE: 'size-canary-8888',
  REDACT: 'redact-canary-9999',
  PASS: 'bool-canary-1212',
  STEP1: '0.3141',
  STEP2: '0.2718',
  ACTION: 'action-canary-1313',
  WINDOW: '12345',
};

/** Every value below comes from a variable, and every one is wrong in its own way. */
function badConfig(logs: string): string {
  return stringify({
    listen: { host: '127.0.0.1', port: '${PORT_TEXT}' },
    admin: { host: '127.0.0.1', port: '${ADMIN_PORT}' },
    models: {
      champion: { url: 'ftp://${URL_HOST}/x', version: 'a' },
      challenger: { url: 'http://user:${URL_PASS}@127.0.0.1:1', version: 'b', timeoutMs: '${TIMEOUT}' },
    },
    routes: [{ method: '${METHOD}', path: '/p', score: '${POINTER}' }],
    passthrough: '${PASS}',
    fallback: '${FALLBACK}',
    assignment: { unit: 'header:${HDR}' },
    traffic: { control: '${CONTROL}', challenger: 0.5 },
    logging: { dir: logs, redact: ['${REDACT}'], rotate: { size: '${SIZE}' } },
    guardrails: { window: '${WINDOW}', minSamples: 20000, action: '${ACTION}' },
    ramp: { steps: ['${STEP1}', '${STEP2}'], every: '1m' },
  });
}

function assertNoCanary(where: string, text: string, canaries: Record<string, string> = CANARIES): void {
  for (const [name, value] of Object.entries(canaries)) {
    assert.ok(!text.includes(value), `${where} holds the text of ${name}:\n${text}`);
  }
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name));
}

test('secrets in config errors: check names each value from the environment by its variable, in every error path', async () => {
  const dir = tempDir('ccrouter-secrets-');
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, badConfig(path.join(dir, 'logs')));
  const r = await runCli(['check', '--config', file], CANARIES);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assertNoCanary('stderr', r.stderr);
  const expected = [
    'listen.port: must be a number, got string from ${PORT_TEXT}',
    'admin.port: must be an integer, got the value of ${ADMIN_PORT}',
    'models.champion.url: must be an http(s) URL, got the value from "ftp://${URL_HOST}/x"',
    'models.challenger.url: must not carry credentials',
    'models.challenger.timeoutMs: must be a duration (milliseconds, or a string like 250ms, 10s, 10m, 1h), got the value of ${TIMEOUT}',
    'routes[0].method: must be an HTTP method, got the value of ${METHOD}',
    'routes[0].score: must be a JSON Pointer starting with "/", got the value of ${POINTER}',
    'passthrough: must be true or false, got string from ${PASS}',
    'assignment.unit: the header name in the value from "header:${HDR}" is not a valid HTTP header name',
    'traffic.challenger: traffic.control + traffic.challenger must be <= 1, got the value of ${CONTROL} + 0.5',
    'fallback: must be one of champion, none, got string from ${FALLBACK}',
    'logging.redact[0]: must be a JSON Pointer starting with "/", got the value of ${REDACT}',
    'logging.rotate.size: must be a size (bytes, or a string like 512k, 100m, 1g), got the value of ${SIZE}',
    'guardrails.action: must be one of rollback, alert, got string from ${ACTION}',
    'guardrails.minSamples: must be <= guardrails.window (the value of ${WINDOW}): the window never holds more',
    'ramp.steps[1]: must be greater than the step before (the value of ${STEP1}): steps only go up',
  ];
  const lines = r.stderr.split('\n');
  for (const line of expected) assert.ok(lines.includes(line), `expected the line\n  ${line}\nin\n${r.stderr}`);
});

test('secrets in check output: values from the environment are printed as written, the id still covers their text', async () => {
  const dir = tempDir('ccrouter-secrets-');
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, stringify({
    listen: { port: '${PORT}' },
    models: {
      champion: { url: 'http://${HOST}:9001', version: 'v1' },
      challenger: { url: 'http://127.0.0.1:9002', version: '${VERSION}', timeoutMs: '${TIMEOUT}' },
    },
    routes: [{ path: '/predict', score: '/score' }],
    control: { patch: { authorization: 'Bearer ${TOKEN}', nested: ['${TOKEN}'] } },
  }));
  const env = { PORT: '18088', HOST: 'host-canary-4711', VERSION: 'version-canary-0815', TIMEOUT: '2500', TOKEN: 'tok-canary-9f3a7c' };
  const r = await runCli(['check', '--config', file], env);
  assert.equal(r.code, 0, r.stderr);
  assertNoCanary('stdout', r.stdout, env);
  assertNoCanary('stderr', r.stderr, env);
  assert.match(r.stdout, /^ {2}port: \$\{PORT\} # from the environment: a number$/m);
  assert.match(r.stdout, /^ {4}url: http:\/\/\$\{HOST\}:9001 # from the environment$/m);
  assert.match(r.stdout, /^ {4}version: \$\{VERSION\} # from the environment$/m);
  assert.match(r.stdout, /^ {4}timeoutMs: \$\{TIMEOUT\} # from the environment: a number$/m);
  assert.match(r.stdout, /^ {4}authorization: Bearer \$\{TOKEN\} # from the environment$/m);
  const id = /config id: ([0-9a-f]{12})\n$/.exec(r.stdout)?.[1];
  assert.equal(id, loadConfigFile(file, env).id, 'the id is computed over the substituted values');
  assert.notEqual(id, loadConfigFile(file, { ...env, TOKEN: 'another' }).id);
});

test('secrets in serve start-up errors: an invalid config exits 2 without the values from the environment', async () => {
  const dir = tempDir('ccrouter-secrets-');
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, badConfig(path.join(dir, 'logs')));
  const r = await runCli(['serve', '--config', file], CANARIES);
  assert.equal(r.code, 2);
  assertNoCanary('stderr', r.stderr);
  assertNoCanary('stdout', r.stdout);
  assert.match(r.stderr, /^listen\.port: must be a number, got string from \$\{PORT_TEXT\}$/m);
});

test('secrets in config_rejected: a live reload of a bad config writes no value from the environment to any file or output', { timeout: 60_000 }, async (t) => {
  const ch = await startUpstream(scoreBehaviour(0.8));
  const cl = await startUpstream(scoreBehaviour(0.3));
  t.after(() => ch.close());
  t.after(() => cl.close());
  const dir = tempDir('ccrouter-secrets-');
  const file = path.join(dir, 'c.yaml');
  const logs = path.join(dir, 'logs');
  fs.writeFileSync(file, stringify(testConfig(ch.url, cl.url, logs)));
  const child = spawnCli(['serve', '--config', file], CANARIES);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  t.after(() => { child.kill('SIGKILL'); });
  await waitForLine(child, /serving on /);
  fs.writeFileSync(file, badConfig(logs));
  child.kill('SIGHUP');
  const events = path.join(logs, 'events.jsonl');
  let rejected: Record<string, any> | undefined;
  for (let i = 0; i < 800 && rejected === undefined; i++) {
    await new Promise((r) => setTimeout(r, 25));
    rejected = readJsonl(events).find((e) => e.type === 'config_rejected');
  }
  assert.ok(rejected, `no config_rejected: ${stderr}`);
  assert.match(rejected.reason, /^listen\.port: must be a number, got string from \$\{PORT_TEXT\}$/m);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  const files = filesUnder(logs);
  assert.ok(files.some((f) => f.endsWith('events.jsonl')));
  for (const f of files) assertNoCanary(f, fs.readFileSync(f, 'utf8'));
  assertNoCanary('stdout', stdout);
  assertNoCanary('stderr', stderr);
});

test('secrets in calibration errors: a model version from the environment is named by its variable, at start and on reload', { timeout: 60_000 }, async (t) => {
  const ch = await startUpstream(scoreBehaviour(0.8));
  const cl = await startUpstream(scoreBehaviour(0.3));
  t.after(() => ch.close());
  t.after(() => cl.close());
  const dir = tempDir('ccrouter-secrets-');
  const table = path.join(dir, 'calibration.json');
  fs.writeFileSync(table, JSON.stringify({ metric: 'precision', models: { 'v-champ': [[0.1, 0.2], [0.9, 0.8]], 'v-chall': [[0.1, 0.2], [0.9, 0.8]] } }));
  const file = path.join(dir, 'c.yaml');
  const logs = path.join(dir, 'logs');
  const base = testConfig(ch.url, cl.url, logs, { calibration: { file: table } });
  const env = { VERSION: 'version-canary-2468' };
  const withVersion = () => {
    const c = structuredClone(base) as any;
    c.models.challenger.version = '${VERSION}';
    return stringify(c);
  };

  fs.writeFileSync(file, withVersion());
  const start = await runCli(['serve', '--config', file], env);
  assert.equal(start.code, 2);
  assertNoCanary('stderr', start.stderr, env);
  assert.match(start.stderr, /no table for models\.challenger\.version \(from \$\{VERSION\}\)/);

  fs.writeFileSync(file, stringify(base));
  const server = await startServer(loadConfigFile(file, {}), { env: {}, defaultMetrics: false });
  t.after(() => server.shutdown());
  fs.writeFileSync(file, withVersion());
  await applyReload(server.runtime, file, false, env);
  await server.shutdown();
  const rejected = readJsonl(path.join(logs, 'events.jsonl')).filter((e) => e.type === 'config_rejected');
  assert.equal(rejected.length, 1);
  assert.match(rejected[0]!.reason, /no table for models\.challenger\.version \(from \$\{VERSION\}\)/);
  for (const f of filesUnder(logs)) assertNoCanary(f, fs.readFileSync(f, 'utf8'), env);
});
