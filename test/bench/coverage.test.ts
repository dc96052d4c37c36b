/**
 * The benchmark reads shadow coverage from ccrouter's pair records with a text scan (runs are large).
 * Here the scan is checked against a JSON parse of records a real ccrouter wrote, with shadow calls
 * skipped over `traffic.shadowLimit` and challenger errors among them.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { coverageByTag, type Coverage } from '../../bench/lib/coverage.js';
import { startProxy, tempDir, testConfig } from '../helpers/proxy.js';
import { scoreBehaviour, startUpstream } from '../helpers/upstream.js';

const ERROR_KINDS = new Set(['timeout', 'connect', 'status', 'parse', 'canceled']);

/** The same figures from parsed records. */
function fromJson(records: Array<Record<string, any>>): Map<string, Coverage> {
  const out = new Map<string, Coverage & { sum: number; n: number }>();
  for (const r of records) {
    const tag = String(r.requestId).replace(/-\d+$/, '');
    const c = out.get(tag) ?? { records: 0, covered: 0, overLimit: 0, errors: 0, challengerMs: null, sum: 0, n: 0 };
    const outcomes = [r.champion, r.challenger];
    c.records++;
    if (outcomes.every((o) => o.error?.kind !== 'skipped')) c.covered++;
    if (outcomes.some((o) => o.error?.kind === 'skipped' && String(o.error.message).includes('shadowLimit'))) c.overLimit++;
    if (outcomes.some((o) => ERROR_KINDS.has(o.error?.kind))) c.errors++;
    if (typeof r.challenger.latencyMs === 'number') {
      c.sum += r.challenger.latencyMs;
      c.n++;
    }
    out.set(tag, c);
  }
  return new Map([...out].map(([tag, { sum, n, ...c }]) => [tag, { ...c, challengerMs: n > 0 ? sum / n : null }]));
}

test('coverageByTag counts what a JSON parse of the same pair records counts', async (t) => {
  const champion = await startUpstream(scoreBehaviour(0.8));
  const challenger = await startUpstream(scoreBehaviour(0.3, 600));
  t.after(() => champion.close());
  t.after(() => challenger.close());
  const dir = tempDir();
  const cfg = testConfig(champion.url, challenger.url, dir, { traffic: { control: 0, challenger: 0, shadowLimit: 2 } });
  (cfg.models as any).challenger.timeoutMs = 2000;
  const p = await startProxy(cfg);
  const post = async (id: string) => {
    const res = await request(p.url + '/predict', { method: 'POST', headers: { 'content-type': 'application/json', 'x-user-id': id, 'x-request-id': id }, body: '{"x":1}' });
    await res.body.text();
    assert.equal(res.statusCode, 200);
  };

  // 8 at once with a 600 ms challenger and shadowLimit 2: most shadow calls are skipped.
  await Promise.all(Array.from({ length: 8 }, (_, i) => post(`pin.r1.ol1000-${i}`)));
  await new Promise((r) => setTimeout(r, 1500));
  // One at a time, each shadow call over before the next: all covered.
  for (let i = 0; i < 2; i++) {
    await post(`pin.r1.sat-${i}`);
    await new Promise((r) => setTimeout(r, 800));
  }
  // A failing challenger: covered (both called) but counted as an error.
  challenger.behave((_req, res) => {
    res.writeHead(500);
    res.end('no');
  });
  for (let i = 0; i < 3; i++) await post(`free.r2.sat-${i}`);

  const records = await p.stopAndRead();
  const scanned = await coverageByTag(p.dir);
  const parsed = fromJson(records);
  assert.equal(records.length, 13);
  assert.deepEqual([...scanned.keys()].sort(), ['free.r2.sat', 'pin.r1.ol1000', 'pin.r1.sat']);
  for (const [tag, want] of parsed) {
    const got = scanned.get(tag)!;
    assert.deepEqual({ ...got, challengerMs: null }, { ...want, challengerMs: null }, tag);
    if (want.challengerMs === null) assert.equal(got.challengerMs, null, tag);
    else assert.ok(Math.abs(got.challengerMs! - want.challengerMs) < 1e-6, `${tag}: ${got.challengerMs} vs ${want.challengerMs}`);
  }
  const burst = scanned.get('pin.r1.ol1000')!;
  assert.ok(burst.overLimit >= 1 && burst.covered === burst.records - burst.overLimit, JSON.stringify(burst));
  assert.ok(burst.challengerMs! >= 500, 'mean latency of the challenger calls that were made');
  assert.deepEqual(scanned.get('pin.r1.sat'), { ...scanned.get('pin.r1.sat')!, records: 2, covered: 2, overLimit: 0, errors: 0 });
  assert.equal(scanned.get('free.r2.sat')!.errors, 3);
  assert.equal(scanned.get('free.r2.sat')!.covered, 3);
});
