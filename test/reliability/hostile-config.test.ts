/**
 * Hostile config files: nothing in a config may crash `check`, stall a live proxy while it reloads,
 * or exhaust its memory. Each bound (docs/config.md, "Bounds") is refused before the work it
 * protects, with a message naming the file and the bound; a reload reads off the serving thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { stringify } from 'yaml';
import { runCheck } from '../../src/commands/check.js';
import { loadConfigFile } from '../../src/config/load.js';
import { applyReload } from '../../src/runtime/reload.js';
import { startServer } from '../../src/server.js';
import { runCli } from '../helpers/cli.js';
import { readJsonl, tempDir, testConfig } from '../helpers/proxy.js';
import { scoreBehaviour, startUpstream } from '../helpers/upstream.js';

const CH = 'http://127.0.0.1:9001';
const CL = 'http://127.0.0.1:9002';

/** A valid config (YAML) followed by `tail`, which adds a `control:` section of the test's making. */
function withTail(tail: string, champion = CH, challenger = CL, logs = './logs'): string {
  return `${stringify(testConfig(champion, challenger, logs))}${tail}`;
}

/** `control.patch.big` an anchored list of about `bytes`, referenced `refs` times under `control.patch`. */
function anchoredList(bytes: number, refs: number): string {
  const items: string[] = [];
  let len = 0;
  while (len < bytes) {
    const item = `      - item-${items.length}-xxxxxxxxxxxxxxxxxxxxxxxx\n`;
    items.push(item);
    len += item.length;
  }
  let out = 'control:\n  patch:\n    big: &a\n' + items.join('');
  for (let i = 0; i < refs; i++) out += `    r${i}: *a\n`;
  return out;
}

/** `control.patch` nested `levels` deep, in flow style: `{a: {a: ... 1}}` or `[[[ ... 1]]]`. */
function nested(levels: number, kind: 'map' | 'list'): string {
  const [open, close] = kind === 'map' ? ['{a: ', '}'] : ['[', ']'];
  return `control:\n  patch: {a: ${open.repeat(levels)}1${close.repeat(levels)}}\n`;
}

/** Nine references per level to the level below: each level holds nine times the one before. */
function aliasBomb(levels: number): string {
  let out = 'control:\n  patch:\n    l0: &l0 [x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i <= levels; i++) out += `    l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(', ')}]\n`;
  return out;
}

function capture() {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (s: string) => { out += s; } }, stderr: { write: (s: string) => { err += s; } }, env: {} },
    out: () => out,
    err: () => err,
  };
}

async function check(file: string): Promise<{ code: number; out: string; err: string }> {
  const c = capture();
  const code = await runCheck(['--config', file], c.io);
  return { code, out: c.out(), err: c.err() };
}

function writeTemp(name: string, text: string): string {
  const file = path.join(tempDir('ccrouter-hostile-'), name);
  fs.writeFileSync(file, text);
  return file;
}

test('hostile config: a file over 1 MiB is refused before it is read whole, naming the file and the bound', async () => {
  const file = writeTemp('big.yaml', withTail(`control:\n  patch:\n    blob: "${'x'.repeat(1536 * 1024)}"\n`));
  const r = await check(file);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.match(r.err, new RegExp(`^ccrouter check: cannot read config ${file}: \\d+ bytes, over the limit of 1 MiB \\(1048576 bytes\\)\\n$`));
});

test('hostile config: the 5 MB anchored list referenced 99 times is refused at once (size bound)', async () => {
  const file = writeTemp('anchored-5m.yaml', withTail(anchoredList(5 * 1024 * 1024, 99)));
  const r = await check(file);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`cannot read config ${file}: \\d+ bytes, over the limit of 1 MiB`));
});

test('hostile config: an anchored list within the size bound but referenced 99 times is refused by its expanded size', async () => {
  const file = writeTemp('anchored-100k.yaml', withTail(anchoredList(100 * 1024, 99)));
  assert.ok(fs.statSync(file).size < 1024 * 1024);
  const r = await check(file);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`^ccrouter check: cannot parse config ${file}: \\d+ characters once its aliases are expanded, over the limit of 1 MiB\\n$`));
});

test('hostile config: aliases of aliases (nine times more per level) are refused by their expanded size, before any data is built', async () => {
  const file = writeTemp('bomb.yaml', withTail(aliasBomb(6)));
  const r = await check(file);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`^ccrouter check: cannot parse config ${file}: \\d+ characters once its aliases are expanded, over the limit of 1 MiB\\n$`));
});

test('hostile config: more than 100 000 keys, values and list items are refused, before any data is built', async () => {
  const file = writeTemp('items.yaml', withTail(`control:\n  patch: {list: [${Array(150_000).fill('0').join(',')}]}\n`));
  const r = await check(file);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`^ccrouter check: cannot parse config ${file}: more than 100000 keys, values and list items \\(aliases expanded\\), over the limit\\n$`));
});

test('hostile config: more than 100 aliases are refused, naming the line of the 101st', async () => {
  let tail = 'control:\n  patch:\n    one: &one 1\n    many: [';
  tail += Array(101).fill('*one').join(', ') + ']\n';
  const r = await check(writeTemp('aliases.yaml', withTail(tail)));
  assert.equal(r.code, 1);
  assert.match(r.err, /at line \d+, column \d+: more than 100 aliases \(\*name\), over the limit\n$/);
});

test('hostile config: deep nesting (700 and 5 000 levels, mappings, lists, JSON) names the file and the 64-level bound, never overflows the stack', async () => {
  const cases: Array<[string, string]> = [
    ['deep-map-700.yaml', withTail(nested(700, 'map'))],
    ['deep-list-700.yaml', withTail(nested(700, 'list'))],
    ['deep-map-5000.yaml', withTail(nested(5000, 'map'))],
    ['deep-list-5000.yaml', withTail(nested(5000, 'list'))],
    ['deep-5000.json', `${JSON.stringify(testConfig(CH, CL, './logs')).slice(0, -1)},"control":{"patch":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}}`],
    ['deep-block.yaml', withTail(`control:\n  patch:\n${Array.from({ length: 100 }, (_, i) => `${'  '.repeat(i + 2)}a${i}:\n`).join('')}`)],
  ];
  for (const [name, text] of cases) {
    const file = writeTemp(name, text);
    const r = await check(file);
    assert.equal(r.code, 1, name);
    assert.match(r.err, new RegExp(`^ccrouter check: cannot parse config ${file} at line \\d+, column \\d+: nested deeper than 64 levels, over the limit\\n$`), name);
  }
});

test('hostile config: `ccrouter check` on the 5 000-level config exits 1 naming the file and the bound (the real command)', async () => {
  const file = writeTemp('deep.yaml', withTail(nested(5000, 'map')));
  const r = await runCli(['check', '--config', file]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^ccrouter check: cannot parse config ${file} at line \\d+, column \\d+: nested deeper than 64 levels, over the limit\\n$`));
});

test('hostile config: 40 000 unknown keys list the first 100 problems, not a 40 000-line message', async () => {
  let tail = '';
  for (let i = 0; i < 40_000; i++) tail += `k${i}: 1\n`;
  const file = writeTemp('keys.yaml', withTail(tail));
  const r = await check(file);
  assert.equal(r.code, 1);
  const lines = r.err.trimEnd().split('\n');
  assert.equal(lines[0], `ccrouter check: invalid config ${file} (40000 problems, the first 100 listed):`);
  assert.equal(lines.length, 101);
  assert.equal(lines[1], 'k0: unknown key');
  assert.equal(lines[100], 'k99: unknown key');
});

test('hostile config: a megabyte-long unknown key is cut in the message, not echoed whole', async () => {
  const key = 'k'.repeat(900 * 1024);
  const r = await check(writeTemp('long-key.yaml', withTail(`? ${key}\n: 1\n`)));
  assert.equal(r.code, 1);
  assert.ok(r.err.length < 2000, `message of ${r.err.length} characters`);
  assert.match(r.err, /^k{500}… \(\d+ more characters\)$/m);
});

test('hostile config: a FIFO or a device as config is refused without reading (it would block or never end)', async (t) => {
  const fifo = path.join(tempDir('ccrouter-hostile-'), 'fifo.yaml');
  try {
    execFileSync('mkfifo', [fifo]);
  } catch {
    t.skip('mkfifo is not available');
    return;
  }
  for (const file of [fifo, '/dev/zero']) {
    const r = await check(file);
    assert.equal(r.code, 1, file);
    assert.equal(r.err, `ccrouter check: cannot read config ${file}: not a regular file\n`);
  }
});

/** A live proxy on two real upstreams, its config file and its events. */
async function liveProxy(t: { after(fn: () => Promise<void> | void): void }) {
  const ch = await startUpstream(scoreBehaviour(0.8));
  const cl = await startUpstream(scoreBehaviour(0.3));
  t.after(() => ch.close());
  t.after(() => cl.close());
  const dir = tempDir('ccrouter-hostile-');
  const file = path.join(dir, 'ccrouter.yaml');
  const logs = path.join(dir, 'logs');
  const config = (tail = '', challenger = 0) =>
    `${stringify(testConfig(ch.url, cl.url, logs, { traffic: { control: 0, challenger } }))}${tail}`;
  fs.writeFileSync(file, config());
  const server = await startServer(loadConfigFile(file, {}), { env: {}, defaultMetrics: false });
  t.after(() => server.shutdown());
  const ask = async (i: number) => {
    const res = await request(server.url + '/predict', { method: 'POST', headers: { 'x-user-id': `u-${i}` }, body: '{}' });
    await res.body.text();
    return { status: res.statusCode, group: res.headers['x-ccrouter-group'] };
  };
  const events = () => readJsonl(path.join(logs, 'events.jsonl'));
  return { server, file, config, ask, events };
}

test('hostile config on reload: a live proxy keeps answering while a 40 000-key config is read, then serves it', { timeout: 120_000 }, async (t) => {
  const { server, file, config, ask, events } = await liveProxy(t);
  let tail = 'control:\n  patch:\n';
  for (let i = 0; i < 40_000; i++) tail += `    p${i}: ${i}\n`;
  fs.writeFileSync(file, config(tail, 1));
  const before = server.runtime.snapshot.id;

  // The order of events, not their timing: answers that arrive while the reload is still under way.
  let reloaded = false;
  const reload = Promise.resolve(applyReload(server.runtime, file, false, {})).then(() => { reloaded = true; });
  let answeredDuring = 0;
  let i = 0;
  while (!reloaded) {
    const r = await ask(i++);
    assert.equal(r.status, 200);
    if (!reloaded) {
      answeredDuring++;
      assert.equal(r.group, 'champion', 'the old config serves until the new one is ready');
    }
  }
  await reload;
  assert.ok(answeredDuring >= 3, `requests answered while the config was read: ${answeredDuring}`);
  assert.notEqual(server.runtime.snapshot.id, before);
  assert.equal((await ask(i)).group, 'challenger', 'the new config serves once loaded');
  const loaded = events().filter((e) => e.type === 'config_loaded');
  assert.equal(loaded.length, 1);
  assert.equal(Object.keys(server.runtime.snapshot.config.control.patch ?? {}).length, 40_000);
});

test('hostile config on reload: each over-bound file is refused with config_rejected naming the bound; the old config stays', { timeout: 120_000 }, async (t) => {
  const { server, file, config, ask, events } = await liveProxy(t);
  const id = server.runtime.snapshot.id;
  let manyKeys = '';
  for (let i = 0; i < 40_000; i++) manyKeys += `k${i}: 1\n`;
  const cases: Array<[string, RegExp]> = [
    [config(`control:\n  patch:\n    blob: "${'x'.repeat(1536 * 1024)}"\n`), /: \d+ bytes, over the limit of 1 MiB \(1048576 bytes\)$/],
    [config(anchoredList(5 * 1024 * 1024, 99)), /: \d+ bytes, over the limit of 1 MiB/],
    [config(anchoredList(100 * 1024, 99)), /: \d+ characters once its aliases are expanded, over the limit of 1 MiB$/],
    [config(nested(5000, 'map')), /at line \d+, column \d+: nested deeper than 64 levels, over the limit$/],
    [config(aliasBomb(6)), /: \d+ characters once its aliases are expanded, over the limit of 1 MiB$/],
    [config(`control:\n  patch: {list: [${Array(150_000).fill('0').join(',')}]}\n`), /more than 100000 keys, values and list items \(aliases expanded\), over the limit$/],
    [config(manyKeys), /\(40000 problems, the first 100 listed\):\n/],
  ];
  for (const [text] of cases) {
    fs.writeFileSync(file, text);
    await applyReload(server.runtime, file, false, {});
    assert.equal(server.runtime.snapshot.id, id);
    assert.equal((await ask(0)).status, 200);
  }
  const rejected = events().filter((e) => e.type === 'config_rejected');
  assert.equal(rejected.length, cases.length);
  cases.forEach(([, reason], i) => {
    assert.ok(rejected[i]!.reason.includes(file), `reason ${i} names the file`);
    assert.match(rejected[i]!.reason, reason, `reason ${i}`);
    assert.equal(rejected[i]!.config, id);
  });
  assert.ok(rejected[5]!.reason.split('\n').length <= 101, 'the reason lists at most 100 problems');
});

test('hostile config on reload: a read that outlives its deadline is given up (config_rejected); the next reload works', { timeout: 60_000 }, async (t) => {
  const { server, file, config, events } = await liveProxy(t);
  const id = server.runtime.snapshot.id;
  // Within the bounds, but no reader gets through 40 000 keys in a millisecond.
  let tail = 'control:\n  patch:\n';
  for (let i = 0; i < 40_000; i++) tail += `    p${i}: ${i}\n`;
  fs.writeFileSync(file, config(tail, 1));
  await applyReload(server.runtime, file, false, {}, { timeoutMs: 1 });
  assert.equal(server.runtime.snapshot.id, id, 'the old config stays');
  const [rejected] = events().filter((e) => e.type === 'config_rejected');
  assert.equal(rejected?.reason, `cannot read config ${file}: took longer than 1 ms to read, given up`);
  await applyReload(server.runtime, file, false, {});
  assert.notEqual(server.runtime.snapshot.id, id);
  assert.equal(server.runtime.snapshot.config.traffic.challenger, 1);
});

test('hostile config on reload: reloads that pile up while one runs are merged, and each caller learns when its reload applied', { timeout: 60_000 }, async (t) => {
  const { server, file, config, events } = await liveProxy(t);
  fs.writeFileSync(file, config('', 1));
  const first = applyReload(server.runtime, file, false, {});
  // Calls made before the first has started join it; once it reads the file, the next ones wait.
  assert.equal(applyReload(server.runtime, file, false, {}), first);
  await new Promise((r) => setImmediate(r));
  const waiting = [applyReload(server.runtime, file, false, {}), applyReload(server.runtime, file, true, {}), applyReload(server.runtime, file, false, {})];
  assert.notEqual(waiting[0], first);
  assert.equal(waiting[0], waiting[1], 'calls made while one waits share it');
  assert.equal(waiting[1], waiting[2]);
  await first;
  await Promise.all(waiting);
  const loaded = events().filter((e) => e.type === 'config_loaded');
  // the first loads the change; the merged one was forced (SIGHUP), so it loads again
  assert.equal(loaded.length, 2);
  assert.equal(server.runtime.snapshot.config.traffic.challenger, 1);
});

test('hostile config on reload: a read that needs more than the reader\'s heap limit ends the reader, not the proxy; the next reload works', { timeout: 60_000 }, async (t) => {
  const { server, file, config, ask, events } = await liveProxy(t);
  const id = server.runtime.snapshot.id;
  let tail = 'control:\n  patch:\n';
  for (let i = 0; i < 40_000; i++) tail += `    p${i}: ${i}\n`;
  fs.writeFileSync(file, config(tail, 1));
  await applyReload(server.runtime, file, false, {}, { heapMb: 16 });
  assert.equal(server.runtime.snapshot.id, id, 'the old config stays');
  assert.equal((await ask(0)).status, 200);
  const [rejected] = events().filter((e) => e.type === 'config_rejected');
  assert.equal(rejected?.reason, `cannot read config ${file}: needed more than 16 MiB of memory to read, given up`);
  await applyReload(server.runtime, file, false, {});
  assert.equal(server.runtime.snapshot.config.traffic.challenger, 1);
});
