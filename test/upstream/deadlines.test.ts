/**
 * The model client's deadline list under node:test's mock timers: real undici and real sockets, only
 * setTimeout and performance.now are driven by the test, so every deadline is checked to the millisecond.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { ModelClient, type CallResult } from '../../src/upstream/model-client.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const TIMEOUT_MS = 100;

function req(tag: string) {
  return { method: 'POST', url: '/predict', headers: ['content-type', 'application/json'], body: Buffer.from(JSON.stringify({ tag })) };
}

/** A model that answers only the calls tagged in `answer`; the others stay unanswered. */
async function model(t: TestContext, answer: Set<string>): Promise<Upstream> {
  const up = await startUpstream((r, res) => {
    if (answer.has((JSON.parse(r.body.toString()) as { tag: string }).tag)) res.end('{"score":0.5}');
  });
  t.after(() => up.close());
  return up;
}

/** Fake clock for the client (performance.now) and its timer (setTimeout); undici's sockets stay real. */
function fakeClock(t: TestContext) {
  let now = 1_000;
  t.mock.method(performance, 'now', () => now);
  t.mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => t.mock.timers.reset());
  return {
    /** Move both clocks on by `ms`, firing the timers due. */
    advance(ms: number) {
      now += ms;
      t.mock.timers.tick(ms);
    },
  };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

function settled(results: Map<string, CallResult>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [tag, r] of results) out[tag] = r.ok ? `ok ${r.latencyMs}` : `${r.kind} ${r.latencyMs}`;
  return out;
}

test('each call times out exactly at its start + timeoutMs, one timer re-armed for the next deadline', async (t) => {
  const up = await model(t, new Set());
  const clock = fakeClock(t);
  const c = new ModelClient({ url: up.url, version: 'v', timeoutMs: TIMEOUT_MS });
  t.after(() => c.destroy());
  const results = new Map<string, CallResult>();
  c.call(req('a'), (r) => results.set('a', r));
  clock.advance(30);
  c.call(req('b'), (r) => results.set('b', r));
  clock.advance(30);
  c.call(req('c'), (r) => results.set('c', r));
  await until(() => up.received.length === 3);
  assert.equal(c.inflight, 3);

  clock.advance(39); // t = 99
  assert.deepEqual(settled(results), {});
  clock.advance(1); // t = 100: a's deadline
  assert.deepEqual(settled(results), { a: 'timeout 100' });
  clock.advance(29); // t = 129
  assert.equal(results.size, 1);
  clock.advance(1); // t = 130
  assert.deepEqual(settled(results), { a: 'timeout 100', b: 'timeout 100' });
  clock.advance(30); // t = 160
  assert.deepEqual(settled(results), { a: 'timeout 100', b: 'timeout 100', c: 'timeout 100' });
  assert.equal(c.inflight, 0);
  const a = results.get('a')!;
  assert.ok(!a.ok && a.message === `no complete answer within ${TIMEOUT_MS} ms`);
});

test('a call answered or canceled leaves the list: the ones before and after it still expire on time', async (t) => {
  const up = await model(t, new Set(['b']));
  const clock = fakeClock(t);
  const c = new ModelClient({ url: up.url, version: 'v', timeoutMs: TIMEOUT_MS });
  t.after(() => c.destroy());
  const results = new Map<string, CallResult>();
  c.call(req('a'), (r) => results.set('a', r));
  clock.advance(10);
  c.call(req('b'), (r) => results.set('b', r)); // answered: leaves from the middle
  clock.advance(10);
  const callC = c.call(req('c'), (r) => results.set('c', r)); // canceled: leaves from the middle
  clock.advance(10);
  c.call(req('d'), (r) => results.set('d', r));
  await until(() => results.has('b') && up.received.length === 4);
  assert.deepEqual(settled(results), { b: 'ok 20' });
  callC.cancel('client went away');
  assert.deepEqual(settled(results), { b: 'ok 20', c: 'canceled 10' });
  assert.equal(c.inflight, 2);

  clock.advance(70); // t = 100: a
  assert.deepEqual(settled(results), { b: 'ok 20', c: 'canceled 10', a: 'timeout 100' });
  clock.advance(29); // t = 129: nothing due (b and c left)
  assert.equal(results.size, 3);
  clock.advance(1); // t = 130: d
  assert.equal(settled(results).d, 'timeout 100');
  assert.equal(c.inflight, 0);
});

test('the head answered first: its timer fires with nothing due and re-arms for the next call\'s deadline', async (t) => {
  const up = await model(t, new Set(['a']));
  const clock = fakeClock(t);
  const c = new ModelClient({ url: up.url, version: 'v', timeoutMs: TIMEOUT_MS });
  t.after(() => c.destroy());
  const results = new Map<string, CallResult>();
  c.call(req('a'), (r) => results.set('a', r));
  clock.advance(50);
  c.call(req('b'), (r) => results.set('b', r));
  await until(() => results.has('a') && up.received.length === 2);
  clock.advance(50); // t = 100: the timer armed for a finds nothing due
  assert.deepEqual(settled(results), { a: 'ok 50' });
  clock.advance(49); // t = 149
  assert.equal(results.size, 1);
  clock.advance(1); // t = 150: b
  assert.deepEqual(settled(results), { a: 'ok 50', b: 'timeout 100' });
  // An empty list holds no timer; the next call arms one again.
  c.call(req('e'), (r) => results.set('e', r));
  clock.advance(100);
  assert.equal(settled(results).e, 'timeout 100');
  assert.equal(c.inflight, 0);
});
