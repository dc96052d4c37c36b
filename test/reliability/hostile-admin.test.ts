/**
 * Hostile callers of the admin port, on real sockets: slow headers and bodies, idle and surplus
 * connections, pathological Authorization headers, hostile and huge outcome batches. None may
 * crash, stall or starve ccrouter, and the public port keeps answering throughout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { request } from 'undici';
import { scoreBehaviour, startUpstream } from '../helpers/upstream.js';
import { scoredProxy, tempDir, testConfig, type TestProxy } from '../helpers/proxy.js';
import { rawExchange, statuses } from '../helpers/raw.js';
import { spawnCli, waitForLine } from '../helpers/cli.js';
import { ADMIN_MAX_CONNECTIONS } from '../../src/admin/app.js';

const TOKEN = 'secret-token';
const AUTH = `Authorization: Bearer ${TOKEN}\r\n`;

async function setup(t: { after(fn: () => Promise<void>): void }, extra: Record<string, unknown> = {}, env?: NodeJS.ProcessEnv): Promise<TestProxy> {
  return (await scoredProxy(t, extra, env)).p;
}

async function publicAnswers(p: TestProxy): Promise<number> {
  const r = await request(p.url + '/predict', { method: 'POST', headers: { 'x-user-id': 'u-1' }, body: '{}' });
  await r.body.text();
  return r.statusCode;
}

/** Bytes of `text`, one part per second: a body (or headers) that never finish in a test's time. */
const trickle = (text: string) => text.split('');

test('admin slow body with a token is cut off with 408 at limits.requestTimeoutMs', { timeout: 30_000 }, async (t) => {
  const p = await setup(t, { limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000 } });
  const head = `POST /outcomes HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 1000\r\n\r\n`;
  const r = await rawExchange(p.adminUrl!, [head, ...trickle('{"unit":"u-1","label":1}'.repeat(2))], { gapMs: 1000, timeoutMs: 12_000 });
  assert.ok(r.closed, 'the admin port closed the connection');
  assert.equal(statuses(r.text)[0], 408, r.text);
  assert.equal(await publicAnswers(p), 200);
});

test('admin slow body answered before it was read (401, 403, 404, 405, 413): the connection is closed, not kept reading', { timeout: 60_000 }, async (t) => {
  // requestTimeoutMs is the default 30 s: a close within the 10 s below is the early answer's.
  const p = await setup(t);
  const noToken = await setup(t, {}, {});
  const cases: Array<[string, TestProxy, string, number]> = [
    ['no token', p, `POST /outcomes HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n`, 401],
    ['wrong token', p, `POST /outcomes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nContent-Length: 1000\r\n\r\n`, 401],
    ['chunked, no token', p, `POST /rollback HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`, 401],
    ['no token configured', noToken, `POST /bypass HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 1000\r\n\r\n`, 403],
    ['a PUT on a mutation', p, `PUT /outcomes HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 1000\r\n\r\n`, 405],
    ['an unknown path', p, `POST /nothing-here HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n`, 404],
    ['a lever body over its limit', p, `POST /bypass HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 100000\r\n\r\n`, 413],
  ];
  for (const [name, proxy, head, status] of cases) {
    const r = await rawExchange(proxy.adminUrl!, [head, ...trickle('x'.repeat(30))], { gapMs: 1000, timeoutMs: 10_000 });
    assert.equal(statuses(r.text)[0], status, `${name}: ${r.text}`);
    assert.ok(r.closed, `${name}: the connection was closed while the body was still coming`);
    assert.match(r.text, /connection: close/i, name);
  }
  assert.equal(await publicAnswers(p), 200);
});

test('admin slow headers are cut off with 408 at limits.headersTimeoutMs', { timeout: 30_000 }, async (t) => {
  const p = await setup(t, { limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000 } });
  const r = await rawExchange(p.adminUrl!, trickle(`GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: ${'s'.repeat(30)}\r\n\r\n`), { gapMs: 1000, timeoutMs: 12_000 });
  assert.ok(r.closed, 'the admin port closed the connection');
  assert.equal(statuses(r.text)[0], 408, r.text);
});

test('an admin connection that never sends a byte is closed at limits.headersTimeoutMs', { timeout: 30_000 }, async (t) => {
  const p = await setup(t, { limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000 } });
  const r = await rawExchange(p.adminUrl!, [], { timeoutMs: 12_000 });
  assert.ok(r.closed, 'the admin port closed the silent connection');
});

test('an idle kept-alive admin connection is closed after the keep-alive timeout; complete requests keep it alive', { timeout: 30_000 }, async (t) => {
  const p = await setup(t);
  const get = 'GET /status HTTP/1.1\r\nHost: x\r\n\r\n';
  const r = await rawExchange(p.adminUrl!, [get, get], { gapMs: 200, timeoutMs: 15_000 });
  assert.deepEqual(statuses(r.text), [200, 200], 'both requests answered on one connection');
  assert.ok(r.closed, 'the idle connection was closed');
});

test('admin connections beyond the cap are closed at once while the public port keeps answering', { timeout: 60_000 }, async (t) => {
  const p = await setup(t, { limits: { headersTimeoutMs: 20_000, requestTimeoutMs: 20_000 } });
  const { port } = new URL(p.adminUrl!);
  const held: net.Socket[] = [];
  t.after(() => held.forEach((s) => s.destroy()));
  // Each held connection proves it was accepted (an answer came), then starts a request it never finishes.
  await Promise.all(Array.from({ length: ADMIN_MAX_CONNECTIONS }, () => new Promise<void>((resolve, reject) => {
    const s = net.connect(Number(port), '127.0.0.1', () => s.write('GET /status HTTP/1.1\r\nHost: x\r\n\r\n'));
    held.push(s);
    s.once('data', () => {
      s.write('GET /status HTTP/1.1\r\n');
      resolve();
    });
    s.once('error', reject);
  })));
  const extra = await rawExchange(p.adminUrl!, 'GET /status HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 10_000 });
  assert.ok(extra.closed, 'the connection over the cap was closed');
  assert.equal(extra.text, '', 'and not served');
  assert.equal(await publicAnswers(p), 200, 'the public port answers meanwhile');
  for (const s of held) s.destroy();
  // Once the held connections are gone, the admin port serves again.
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    const r = await rawExchange(p.adminUrl!, 'GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { timeoutMs: 5000 });
    status = statuses(r.text)[0] ?? 0;
    if (status !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(status, 200);
});

test('quadratic bearer regex: 2 000 Authorization headers of 16 000 spaces, ten connections at a time, all answer 401', { timeout: 90_000 }, async (t) => {
  // The former regex spent ~10^8 steps on each: 2 000 of them held the process for minutes.
  const p = await setup(t);
  const head = (last: boolean) => `POST /rollback HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x${' '.repeat(16_000)}y\r\nContent-Length: 0\r\n${last ? 'Connection: close\r\n' : ''}\r\n`;
  const pipelined = head(false).repeat(199) + head(true);
  const answers = await Promise.all(Array.from({ length: 10 }, () => rawExchange(p.adminUrl!, pipelined, { timeoutMs: 80_000 })));
  const seen = answers.flatMap((a) => statuses(a.text));
  assert.equal(seen.length, 2000);
  assert.deepEqual(new Set(seen), new Set([401]));
  assert.equal(await publicAnswers(p), 200);
  const s = await request(p.adminUrl + '/status');
  assert.equal(((await s.body.json()) as { traffic: { challenger: number } }).traffic.challenger, 0, 'nothing pulled a lever');
});

test('a label nested 5 000 deep is a per-item rejection (200), not a 500', async (t) => {
  const p = await setup(t);
  const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
  const items = ['{"requestId":"r-1","label":1}', `{"requestId":"r-2","label":${deep}}`, `{"requestId":"r-3","label":0,"x":${deep}}`];
  for (const body of [`[${items.join(',')}]`, items.join('\n'), items[1]!]) {
    const r = await request(p.adminUrl + '/outcomes', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body });
    const json = (await r.body.json()) as { accepted: number; rejected: Array<{ index: number; error: string }> };
    assert.equal(r.statusCode, 200);
    assert.equal(json.rejected.length, 1);
    assert.match(json.rejected[0]!.error, /^label: .* got an array$/);
  }
});

test('an outcomes batch that cannot be written answers 503 write_failed, not 200', { skip: !fs.existsSync('/dev/full') && 'no /dev/full' }, async (t) => {
  const dir = tempDir();
  fs.symlinkSync('/dev/full', path.join(dir, 'outcomes.jsonl'));
  const p = await setup(t, { logging: { dir } });
  const r = await request(p.adminUrl + '/outcomes', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '{"unit":"u","label":1}' });
  const json = (await r.body.json()) as { error: string; message: string };
  assert.equal(r.statusCode, 503);
  assert.equal(json.error, 'write_failed');
  assert.match(json.message, /outcomes\.jsonl/);
  const status = (await (await request(p.adminUrl + '/status')).body.json()) as { counters: { logWriteErrors: number } };
  assert.ok(status.counters.logWriteErrors >= 1, 'counted');
  assert.equal(await publicAnswers(p), 200);
});

test('a 16 MiB outcomes post: the public port answers while it is written, and every line is in the file before the 200', { timeout: 120_000 }, async (t) => {
  const up = await startUpstream(scoreBehaviour(0.5));
  t.after(() => up.close());
  const dir = tempDir();
  const file = path.join(dir, 'ccrouter.json');
  fs.writeFileSync(file, JSON.stringify(testConfig(up.url, up.url, dir)));
  const child = spawnCli(['serve', '--config', file], { CCROUTER_TEST_TOKEN: TOKEN });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const [, url, adminUrl] = await waitForLine(child, /serving on (\S+) \(admin (\S+)\)/);
  const line = '{"unit":"u-0000000","label":1}\n';
  const n = Math.floor((16 * 1024 * 1024 - 1) / line.length);
  const body = Buffer.from(line.repeat(n));
  const outcomes = path.join(dir, 'outcomes.jsonl');
  const order: string[] = [];
  const post = request(adminUrl + '/outcomes', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body }).then(async (r) => {
    const json = (await r.body.json()) as { accepted: number };
    // Read at once: the lines must already be there.
    const lines = fs.readFileSync(outcomes, 'utf8').split('\n').length - 1;
    order.push('post');
    return { status: r.statusCode, accepted: json.accepted, lines };
  });
  // Wait until the batch is being written, then ask the public port.
  while (order.length === 0 && (!fs.existsSync(outcomes) || fs.statSync(outcomes).size === 0)) await new Promise((r) => setTimeout(r, 2));
  assert.equal(order.length, 0, 'the post was still being processed when the public request went out');
  const pub = await request(url + '/predict', { method: 'POST', body: '{}' });
  await pub.body.text();
  order.push('public');
  const result = await post;
  assert.equal(pub.statusCode, 200);
  assert.deepEqual(order, ['public', 'post'], 'the public request was answered before the post');
  assert.deepEqual(result, { status: 200, accepted: n, lines: n });
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
});
