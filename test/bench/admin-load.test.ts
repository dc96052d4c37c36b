/** bench/admin-load.ts: its flags, and the outcomes batch and config it sends. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { largeConfig, outcomesBatch, parseOptions } from '../../bench/admin-load.js';
import { UsageError } from '../../bench/lib/args.js';
import { ccrouterConfig } from '../../bench/peers/ccrouter.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function node(script: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const tool = (...args: string[]) => node('bench/admin-load.ts', ...args);

test('admin-load: defaults, and each flag read as given', () => {
  const d = parseOptions([]);
  assert.equal(d.builds.length, 1);
  assert.deepEqual([d.rounds, d.rate, d.seconds, d.layout, d.waitQuietS], [3, 500, 5, 'pinned', 30]);
  assert.equal(d.outcomesBytes, 16 * 1024 * 1024);
  assert.equal(d.configBytes, 512 * 1024);
  assert.deepEqual(d.phases, ['baseline', 'outcomes', 'reload']);

  const o = parseOptions(['--rounds', '2', '--rate', '250', '--seconds', '2.5', '--outcomes-mib', '0.5', '--config-kib', '64', '--phases', 'reload', '--layout', 'unpinned', '--ccrouter', 'tsx', '--wait-quiet', '0']);
  assert.deepEqual([o.rounds, o.rate, o.seconds, o.outcomesBytes, o.configBytes, o.layout, o.waitQuietS], [2, 250, 2.5, 512 * 1024, 64 * 1024, 'unpinned', 0]);
  assert.deepEqual(o.phases, ['baseline', 'reload']);
  assert.equal(o.builds[0]!.label, 'sources');
  assert.deepEqual(parseOptions(['--phases', 'reload,outcomes']).phases, ['baseline', 'outcomes', 'reload']);
});

// parseOptions exits the process on a flag parseArgs itself refuses (unknown, missing value): those are
// checked in a child process below.
test('admin-load: a flag it cannot use throws a UsageError that names it', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--outcomes-mib', '17'], /^--outcomes-mib: at most 16 \(the admin port answers 413 above\), got "17"$/],
    [['--outcomes-mib', '0'], /^--outcomes-mib: expected a number > 0, got "0"$/],
    [['--config-kib', '2048'], /^--config-kib: at most 1024, got "2048"$/],
    [['--rounds', '1.5'], /^--rounds: expected a whole number, got "1.5"$/],
    [['--rate', 'fast'], /^--rate: expected a number > 0, got "fast"$/],
    [['--phases', 'baseline'], /^--phases: unknown "baseline" \(expected outcomes, reload\)$/],
    [['--layout', 'both'], /^--layout: expected pinned \| unpinned, got "both"$/],
    [['--wait-quiet', 'soon'], /^--wait-quiet: expected a number >= 0, got "soon"$/],
    [['--ccrouter', 'docker'], /^--ccrouter: expected auto \| dist \| tsx, got "docker"$/],
    [['--build', 'bench/nonexistent-build'], /^--build: .*bench\/nonexistent-build\/cli\.js does not exist$/],
    [['--build', '/tmp'], /^--build: \/tmp\/cli\.js does not exist$/],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseOptions(args), (e: Error) => e instanceof UsageError && message.test(e.message), args.join(' '));
  }
});

test('admin-load: --help prints the usage; an unknown flag exits 2 before anything starts', () => {
  const help = tool('--help');
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: node --import tsx bench\/admin-load\.ts/);
  assert.match(help.stdout, /--build DIR/);
  assert.match(help.stdout, /-h, --help\n/);
  for (const [args, message] of [
    [['--bogus'], /Unknown option '--bogus'/],
    [['--outcomes-mib', '32'], /--outcomes-mib: at most 16/],
    [['--build', 'bench/nonexistent-build'], /--build: .*nonexistent-build\/cli\.js does not exist/],
  ] as Array<[string[], RegExp]>) {
    const r = tool(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /See --help\./);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stdout, '');
  }
});

test('admin-load: the outcomes batch fills its size with one outcome per line, and is not one JSON value', () => {
  const { body, items } = outcomesBatch(64 * 1024);
  assert.ok(body.length <= 64 * 1024 && body.length > 64 * 1024 - 64, String(body.length));
  const lines = body.toString('utf8').split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, items);
  for (const line of lines) {
    const o = JSON.parse(line) as { requestId: unknown; label: unknown };
    assert.equal(typeof o.requestId, 'string');
    assert.ok(o.label === 0 || o.label === 1);
  }
  assert.throws(() => JSON.parse(body.toString('utf8')));
});

test('admin-load: the default large config is about the size asked and valid (`ccrouter check`), each variant another config', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccrouter-admin-load-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bytes = parseOptions([]).configBytes;
  const base = { ...ccrouterConfig({ champion: 'http://127.0.0.1:1', challenger: 'http://127.0.0.1:2', shadow: true }, path.join(dir, 'logs')), admin: { host: '127.0.0.1', port: 0, tokenEnv: 'T' } };
  const ids = new Set<string>();
  for (const variant of [1, 2]) {
    const c = largeConfig(base, bytes, variant);
    const size = Buffer.byteLength(c.text);
    assert.ok(size >= bytes && size < bytes + 100, String(size));
    const file = path.join(dir, `v${variant}.yaml`);
    fs.writeFileSync(file, c.text);
    const r = node('src/cli.ts', 'check', '--config', file);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.match(/^ {2}- method: POST$/gm)?.length, c.routes);
    const id = /^config id: (\w+)$/m.exec(r.stdout)?.[1];
    assert.ok(id !== undefined, r.stdout.slice(-200));
    ids.add(id);
  }
  assert.equal(ids.size, 2);
});
