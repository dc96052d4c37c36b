import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { transactions } from '../../src/demo/data.js';
import { startDemoModels } from '../../src/demo/models.js';
import { sendTraffic, timelineBucketMs } from '../../src/demo/traffic.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/** A stand-in for ccrouter on 127.0.0.1 port 0. */
async function upstream(t: TestContext, handler: Handler): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('sends the stream with the unit header and collects ids, groups, labels and progress', async (t) => {
  const seen: Array<{ path: string; unit: unknown; type: unknown; body: any }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const url = await upstream(t, (req, text, res) => {
    const body = JSON.parse(text);
    seen.push({ path: req.url!, unit: req.headers['x-user-id'], type: req.headers['content-type'], body });
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    setTimeout(() => {
      inFlight--;
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-request-id': `req-${body.txId}`,
        'x-ccrouter-group': Number(body.userId.slice(2)) % 2 ? 'challenger' : 'champion',
      });
      res.end('{"score":0.5}');
    }, 5);
  });
  const progress: Array<[number, number]> = [];
  const result = await sendTraffic({ url: url + '/base/', requests: 120, concurrency: 4, seed: 3, onProgress: (d, n) => progress.push([d, n]) });

  const expected = [...transactions(3, 120)];
  assert.equal(result.sent, 120);
  assert.equal(result.ok, 120);
  assert.equal(result.failed, 0);
  assert.equal(result.latencyMs.length, 120);
  assert.ok(result.latencyMs.every((ms) => ms >= 0));
  const odd = expected.filter((x) => Number(x.unit.slice(2)) % 2).length;
  assert.deepEqual(result.byGroup, { challenger: odd, champion: 120 - odd });
  // Every request id maps back to its transaction's ground truth.
  const labelOf = new Map(expected.map((x) => [`req-${x.body.txId}`, x.label]));
  assert.equal(result.outcomes.length, 120);
  for (const o of result.outcomes) assert.equal(o.label, labelOf.get(o.requestId));
  assert.equal(new Set(result.outcomes.map((o) => o.requestId)).size, 120);
  // The bodies are the stream's, the unit header is the user, the base URL's path is a prefix.
  assert.deepEqual(seen.map((s) => s.body).sort((a, b) => a.txId.localeCompare(b.txId)),
    expected.map((x) => x.body).sort((a, b) => a.txId.localeCompare(b.txId)));
  for (const s of seen) {
    assert.equal(s.path, '/base/predict');
    assert.equal(s.unit, s.body.userId);
    assert.equal(s.type, 'application/json');
  }
  assert.ok(maxInFlight <= 4 && maxInFlight > 1, `max in flight ${maxInFlight}`);
  assert.deepEqual(progress, Array.from({ length: 120 }, (_, i) => [i + 1, 120]));
});

test('path and unit header are configurable; a missing group header counts as none', async (t) => {
  const seen: Array<{ path: string; unit: unknown }> = [];
  const url = await upstream(t, (req, _body, res) => {
    seen.push({ path: req.url!, unit: req.headers['x-account'] });
    res.end('ok');
  });
  const result = await sendTraffic({ url, path: '/v2/models/fraud/infer', unitHeader: 'x-account', requests: 10 });
  assert.deepEqual(result.byGroup, { none: 10 });
  assert.equal(result.outcomes.length, 0, 'no x-request-id, nothing to label');
  assert.ok(seen.every((s) => s.path === '/v2/models/fraud/infer' && typeof s.unit === 'string'));
});

test('failed requests are counted, never thrown', async (t) => {
  let n = 0;
  const url = await upstream(t, (_req, _body, res) => {
    n++;
    if (n % 3 === 0) return res.socket!.destroy(); // no answer at all
    res.writeHead(n % 3 === 1 ? 200 : 502, { 'x-request-id': `r${n}`, 'x-ccrouter-group': 'champion' });
    res.end('{}');
  });
  const result = await sendTraffic({ url, requests: 30, concurrency: 1 });
  assert.equal(result.sent, 30);
  assert.equal(result.ok + result.failed, 30);
  assert.equal(result.ok, 10);
  assert.equal(result.failed, 20);
  // Answered requests (200 and 502) are labelled; the dropped ones cannot be.
  assert.equal(result.outcomes.length, 20);
  assert.equal(result.latencyMs.length, 20);
});

test('an unreachable server fails every request without throwing', async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  const progress: number[] = [];
  const result = await sendTraffic({ url: `http://127.0.0.1:${port}`, requests: 5, onProgress: (d) => progress.push(d) });
  const { startedAt, endedAt, ...counts } = result;
  assert.deepEqual(counts, { sent: 5, ok: 0, failed: 5, byGroup: {}, outcomes: [], latencyMs: [] });
  assert.ok(startedAt <= endedAt);
  assert.equal(progress.length, 5);
});

test('zero requests resolve at once; bad options are rejected by name', async () => {
  const result = await sendTraffic({ url: 'http://127.0.0.1:9', requests: 0 });
  assert.equal(result.sent, 0);
  await assert.rejects(sendTraffic({ url: 'http://127.0.0.1:9', requests: 1, concurrency: 0 }), /concurrency/);
  await assert.rejects(sendTraffic({ url: 'http://127.0.0.1:9', requests: -1 }), /requests/);
});

test('a throwing progress callback stops the traffic and rejects with its error', async (t) => {
  let served = 0;
  const url = await upstream(t, (_req, _body, res) => {
    served++;
    res.end('{}');
  });
  await assert.rejects(
    sendTraffic({ url, requests: 1000, concurrency: 2, onProgress: (d) => { if (d === 5) throw new Error('boom'); } }),
    /boom/,
  );
  assert.ok(served < 20, `${served} requests sent after the callback failed`);
});

test('drives the demo models directly (no ccrouter in between)', async (t) => {
  const models = await startDemoModels();
  t.after(() => models.close());
  const result = await sendTraffic({ url: models.challenger.url, path: '/score', requests: 200, concurrency: 8 });
  assert.equal(result.ok, 200);
  assert.equal(result.failed, 0);
});

test('timelineBucketMs: the smallest round step giving at most 20 buckets over the run', () => {
  assert.equal(timelineBucketMs(0), 100);
  assert.equal(timelineBucketMs(2000), 100);
  assert.equal(timelineBucketMs(2001), 250);
  assert.equal(timelineBucketMs(10_000), 500);
  assert.equal(timelineBucketMs(10_200), 1000);
  assert.equal(timelineBucketMs(10 * 60_000), 30_000);
  assert.equal(timelineBucketMs(1e12), 3_600_000);
});
