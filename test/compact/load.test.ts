import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { request } from 'undici';
import { compact } from '../../src/compact/convert.js';
import { openLogs } from '../../src/report/load.js';
import { scoreBehaviour, startUpstream } from '../helpers/upstream.js';
import { startProxy, tempDir, testConfig } from '../helpers/proxy.js';

/** Records in the report's view: how many, and how many distinct request ids. */
async function counted(dir: string): Promise<{ n: number; distinct: number; ids: Set<string> }> {
  const store = await openLogs({ logs: dir });
  try {
    const rows = (await store.conn.runAndReadAll('SELECT requestId FROM pair_rows')).getRows();
    const ids = new Set(rows.map((r) => String(r[0])));
    return { n: rows.length, distinct: ids.size, ids };
  } finally {
    await store.close();
  }
}

test('compact under load with rotation: no record lost or counted twice, before and after the proxy stops', async (t) => {
  const ch = await startUpstream(scoreBehaviour(0.8));
  const cl = await startUpstream(scoreBehaviour(0.3));
  t.after(() => ch.close());
  t.after(() => cl.close());
  const dir = tempDir();
  const p = await startProxy(testConfig(ch.url, cl.url, dir, { logging: { dir, rotate: { size: '4k' } } }));
  const n = 600;
  const sent = new Set<string>();
  let done = false;
  let runs = 0;
  let convertedDuringLoad = 0;
  let deletedDuringLoad = 0;
  // A compaction after another, each followed by a report's count, for as long as traffic flows;
  // every other one keeps its sources, so that the report meets files both as JSONL and as Parquet.
  const compactor = (async () => {
    while (!done) {
      const r = await compact({ logs: dir, delete: runs % 2 === 1 });
      runs++;
      convertedDuringLoad += r.converted.length;
      deletedDuringLoad += r.deleted.length;
      assert.deepEqual(r.failed, []);
      if (fs.readdirSync(dir).some((f) => f.startsWith('pairs'))) {
        const c = await counted(dir);
        assert.equal(c.n, c.distinct, `run ${runs}: a record counted twice`);
        for (const id of c.ids) assert.ok(sent.has(id), `run ${runs}: ${id} was never sent`);
      }
    }
  })();
  for (let i = 0; i < n; i += 10) {
    await Promise.all(Array.from({ length: 10 }, async (_, k) => {
      const id = `r-${i + k}`;
      sent.add(id);
      const res = await request(p.url + '/predict', { method: 'POST', headers: { 'x-user-id': `u-${i + k}`, 'x-request-id': id }, body: '{}' });
      assert.equal(res.statusCode, 200);
      await res.body.text();
    }));
  }
  done = true;
  await compactor;
  assert.ok(convertedDuringLoad > 0 && deletedDuringLoad > 0, `compacted while serving: ${convertedDuringLoad} converted, ${deletedDuringLoad} deleted in ${runs} runs`);
  // Before the proxy stops: what was converted plus what is still JSONL.
  const live = await counted(dir);
  assert.equal(live.n, live.distinct);
  await p.shutdown();
  // Every file closed now: all converted, none deleted yet, each record still counted once.
  assert.deepEqual((await compact({ logs: dir })).failed, []);
  const stopped = await counted(dir);
  assert.equal(stopped.n, n, 'every answered request once');
  assert.equal(stopped.distinct, n);
  assert.deepEqual([...stopped.ids].sort(), [...sent].sort());
  // After the shutdown event every file is closed: all converted and removed, and still each record once.
  const last = await compact({ logs: dir, delete: true });
  assert.deepEqual(last.failed, []);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => /^pairs.*\.jsonl$/.test(f)), []);
  const after = await counted(dir);
  assert.equal(after.n, n);
  assert.equal(after.distinct, n);
});
