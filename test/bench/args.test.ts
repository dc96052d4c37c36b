/** The bench tools' flags: --help, and a message naming the flag (exit 2, no stack) for a bad one. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { count, listOf, numberList, oneOf, positive, UsageError } from '../../bench/lib/args.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function tool(script: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('flag values are checked with the flag named in the message', () => {
  assert.equal(positive('--rate', undefined, 1000), 1000);
  assert.equal(positive('--rate', '250.5', 1000), 250.5);
  assert.equal(positive('--retries', '0', 2, true), 0);
  for (const bad of ['0', '-1', 'abc', '', 'Infinity']) {
    assert.throws(() => positive('--rate', bad, 1000), (e: Error) => e instanceof UsageError && e.message.startsWith('--rate: expected a number > 0'), bad);
  }
  assert.equal(count('--rounds', '4', 3), 4);
  assert.throws(() => count('--rounds', '2.5', 3), /--rounds: expected a whole number, got "2.5"/);
  assert.equal(oneOf('--tool', undefined, ['wrk', 'autocannon'], 'wrk'), 'wrk');
  assert.throws(() => oneOf('--tool', 'ab', ['wrk', 'autocannon'], 'wrk'), /--tool: expected wrk \| autocannon, got "ab"/);
  assert.deepEqual(listOf('--layouts', 'pinned, unpinned', ['pinned', 'unpinned'], ['pinned']), ['pinned', 'unpinned']);
  assert.deepEqual(listOf('--layouts', undefined, ['pinned', 'unpinned'], ['pinned']), ['pinned']);
  assert.throws(() => listOf('--layouts', 'pinned,both', ['pinned', 'unpinned'], []), /--layouts: unknown "both"/);
  assert.throws(() => listOf('--layouts', ',', ['pinned', 'unpinned'], []), /--layouts: expected a comma-separated list/);
  assert.deepEqual(numberList('--rates', '300, 1000', [1000]), [300, 1000]);
  assert.deepEqual(numberList('--rates', undefined, [1000, 3000]), [1000, 3000]);
  assert.throws(() => numberList('--rates', '1000,,3000', []), /--rates: expected a number > 0, got ""/);
});

test('every bench tool answers --help with its usage', () => {
  for (const script of ['bench/run.ts', 'bench/investigations/stalls.ts', 'bench/investigations/profile.ts', 'bench/soak.ts', 'bench/investigations/inflight.ts', 'bench/investigations/cpu-by-rate.ts', 'bench/investigations/duel.ts', 'bench/investigations/record-line.ts', 'bench/report/run.ts', 'bench/report/phases.ts', 'bench/report/generate.ts', 'bench/report/scale.ts', 'bench/report/one.ts', 'bench/report/sketch.ts', 'bench/report/profile.ts']) {
    const r = tool(script, '--help');
    assert.equal(r.code, 0, `${script}: ${r.stderr}`);
    assert.match(r.stdout, /^Usage: /, script);
    assert.match(r.stdout, /-h, --help\n/, script);
  }
});

test('a bad flag exits 2 with a message that names it, without a stack, before anything starts', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['bench/run.ts', ['--bogus'], /Unknown option '--bogus'/],
    ['bench/run.ts', ['--peers', 'ccr-shadow,nope'], /--peers: unknown "nope"/],
    ['bench/investigations/stalls.ts', ['--rate', '0'], /--rate: expected a number > 0, got "0"/],
    ['bench/investigations/profile.ts', ['--peer', 'direct'], /--peer: expected ccr-shadow \| ccr-noshadow \| ccr-slow \| fastify-proxy, got "direct"/],
    ['bench/soak.ts', ['--minutes'], /--minutes/],
    ['bench/investigations/inflight.ts', [], /--logs: required/],
    ['bench/investigations/cpu-by-rate.ts', ['--rates', '1000,fast'], /--rates: expected a number > 0, got "fast"/],
    ['bench/investigations/duel.ts', [], /--a: a peer is required/],
    ['bench/investigations/duel.ts', ['--a', 'fastify-proxy', '--b', 'ccrouter'], /--b: expected direct \| fastify-proxy \| .* got "ccrouter"/],
    ['bench/investigations/duel.ts', ['--a', 'ccr-noshadow', '--b', 'ccr-noshadow'], /--b: the same peer, build and node flags as --a \(ccr-noshadow\)/],
    ['bench/investigations/duel.ts', ['--a', 'ccr-shadow', '--b', 'ccr-slow', '--slow-delay', '0'], /--slow-delay: expected a number > 0, got "0"/],
    ['bench/investigations/duel.ts', ['--a', 'ccr-slow', '--a-node-args=--x=1', '--b', 'ccr-slow', '--b-node-args=--x=1'], /--b: the same peer, build and node flags as --a \(ccr-slow\)/],
    ['bench/investigations/duel.ts', ['--a', 'ccr-noshadow', '--a-build', 'bench/nonexistent-build', '--b', 'ccr-noshadow'], /--a-build: .*nonexistent-build\/cli\.js does not exist/],
    ['bench/investigations/duel.ts', ['--a', 'ccr-noshadow', '--b', 'ccr-noshadow', '--b-build', '/tmp'], /--b-build: \/tmp\/cli\.js does not exist/],
    ['bench/investigations/record-line.ts', ['--repeats', '0'], /--repeats: expected a number > 0, got "0"/],
    ['bench/report/run.ts', ['--logs', '/nonexistent-ccrouter-logs'], /--logs \/nonexistent-ccrouter-logs: no such directory/],
    ['bench/report/generate.ts', ['--records', '1.5'], /--records: expected a whole number, got "1.5"/],
    ['bench/report/generate.ts', ['extra'], /Unexpected argument 'extra'/],
    ['bench/report/scale.ts', ['--sizes', '1m,lots'], /--sizes: "lots" is not a record count/],
    ['bench/report/one.ts', ['--mode', 'fast', '--logs', '/tmp'], /--mode: expected bare \| sketch \| sketch-no-labels \| sketch-no-hours \| report, got "fast"/],
    ['bench/report/sketch.ts', [], /--logs: required/],
    ['bench/report/sketch.ts', ['--logs', '/tmp', '--runs', '0'], /--runs: expected a number > 0, got "0"/],
  ];
  for (const [script, args, message] of cases) {
    const r = tool(script, ...args);
    const what = `${script} ${args.join(' ')}`;
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    assert.match(r.stderr, message, what);
    assert.match(r.stderr, /See --help\./, what);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
    assert.equal(r.stdout, '', what);
  }
});
