/**
 * The champion's hop-by-hop headers stay on the champion's connection: a pass-through answer's
 * `connection` is the caller's and ccrouter's, never the champion's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream } from '../helpers/upstream.js';
import { startProxy, tempDir, testConfig } from '../helpers/proxy.js';
import { rawExchange, statuses } from '../helpers/raw.js';

test('regression: a pass-through answer carried the champion\'s "connection: keep-alive" and kept a connection the caller asked to close', { timeout: 20_000 }, async (t) => {
  const champion = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'keep-alive, x-hop', 'keep-alive': 'timeout=60', 'x-hop': 'champion-only', 'x-end': 'kept' });
    res.end('ok');
  });
  const challenger = await startUpstream((_req, res) => void res.end('{"score":0.3}'));
  t.after(() => champion.close());
  t.after(() => challenger.close());
  const p = await startProxy(testConfig(champion.url, challenger.url, tempDir()));
  t.after(() => p.shutdown());
  // A bounded wait: the connection kept open shows as `closed: false` when it runs out.
  const r = await rawExchange(p.url, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { timeoutMs: 5000 });
  assert.deepEqual(statuses(r.text), [200]);
  const head = r.text.slice(0, r.text.indexOf('\r\n\r\n')).toLowerCase();
  assert.match(head, /\r\nx-end: kept\r\n/, 'end-to-end headers pass');
  assert.doesNotMatch(head, /keep-alive|x-hop/, "the champion's hop-by-hop headers stay behind");
  assert.match(head, /\r\nconnection: close\r\n/);
  assert.ok(r.closed, 'the connection the caller asked to close was closed');
});
