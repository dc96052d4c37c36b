import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Client, request } from 'undici';
import { transactions } from '../../src/demo/data.js';
import {
  CHALLENGER_MODEL, CHAMPION_MODEL, scoreDocument, startDemoModels, type DemoModels,
} from '../../src/demo/models.js';

async function started(t: TestContext, opts?: Parameters<typeof startDemoModels>[0]): Promise<DemoModels> {
  const models = await startDemoModels(opts);
  t.after(() => models.close());
  return models;
}

async function post(url: string, body: string, method = 'POST'): Promise<{ status: number; json: any; headers: Record<string, unknown> }> {
  // reset: one connection per request, so no pooled socket outlives the servers.
  const res = await request(url, { method: method as 'POST', body, headers: { 'content-type': 'application/json' }, reset: true });
  return { status: res.statusCode, json: await res.body.json(), headers: res.headers };
}

// --- small statistics, kept here on purpose: the report owns the real ones -----------------------

/** ROC AUC via the Mann-Whitney statistic with average ranks (ties count one half). */
function auc(scores: number[], labels: Array<0 | 1>): number {
  const order = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const ranks = new Array<number>(scores.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  let pos = 0;
  let rankSum = 0;
  labels.forEach((y, i) => {
    if (y) {
      pos++;
      rankSum += ranks[i]!;
    }
  });
  const neg = labels.length - pos;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Exact two-sided McNemar: min(1, 2·BinomCDF(min(b,c); b+c, ½)), summed in log space. */
function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  let logC = 0;
  let cdf = 0;
  for (let k = 0; k <= Math.min(b, c); k++) {
    cdf += Math.exp(logC - n * Math.LN2);
    logC += Math.log(n - k) - Math.log(k + 1);
  }
  return Math.min(1, 2 * cdf);
}

test('stats helpers match hand-computed values', () => {
  assert.equal(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  assert.equal(auc([0.5, 0.5], [0, 1]), 0.5);
  assert.equal(mcnemarExact(0, 0), 1);
  assert.equal(mcnemarExact(0, 5), 2 / 32);
  assert.ok(Math.abs(mcnemarExact(3, 10) - 0.09228515625) < 1e-12); // 2·(1+13+78+286)/8192
});

test('the challenger is genuinely better than the champion on labelled traffic', (t) => {
  for (const seed of [1, 2, 3]) {
    const labels: Array<0 | 1> = [];
    const champion: number[] = [];
    const challenger: number[] = [];
    for (const { body, label } of transactions(seed, 3000)) {
      labels.push(label);
      champion.push(scoreDocument(CHAMPION_MODEL, body)!);
      challenger.push(scoreDocument(CHALLENGER_MODEL, body)!);
    }
    let b = 0; // champion right, challenger wrong at the shared threshold 0.5
    let c = 0; // the reverse
    labels.forEach((y, i) => {
      const champRight = (champion[i]! >= 0.5 ? 1 : 0) === y;
      const challRight = (challenger[i]! >= 0.5 ? 1 : 0) === y;
      if (champRight && !challRight) b++;
      if (!champRight && challRight) c++;
    });
    const aucChampion = auc(champion, labels);
    const aucChallenger = auc(challenger, labels);
    const p = mcnemarExact(b, c);
    const chi2 = (Math.abs(b - c) - 1) ** 2 / (b + c);
    t.diagnostic(`seed ${seed}: base rate ${(labels.filter(Boolean).length / 3000).toFixed(3)} ` +
      `AUC champion ${aucChampion.toFixed(3)} challenger ${aucChallenger.toFixed(3)} ` +
      `McNemar b=${b} c=${c} chi2=${chi2.toFixed(1)} p=${p.toExponential(2)}`);
    assert.ok(aucChallenger > aucChampion, `seed ${seed}: AUC ${aucChallenger} <= ${aucChampion}`);
    assert.ok(c > b, `seed ${seed}: c=${c} <= b=${b}`);
    assert.ok(p < 0.01, `seed ${seed}: p=${p}`);
  }
});

test('both models answer /score, /predict and the KServe v2 form with the pure score', async (t) => {
  const models = await started(t);
  assert.equal(models.champion.version, 'fraud-v7');
  assert.equal(models.challenger.version, 'fraud-v8');
  assert.match(models.champion.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  for (const { body } of transactions(4, 25)) {
    const text = JSON.stringify(body);
    for (const [role, spec] of [['champion', CHAMPION_MODEL], ['challenger', CHALLENGER_MODEL]] as const) {
      const expected = scoreDocument(spec, body)!;
      const { url, version } = models[role];
      for (const path of ['/score', '/predict?x=1']) {
        const res = await post(url + path, text);
        assert.equal(res.status, 200);
        assert.match(String(res.headers['content-type']), /application\/json/);
        assert.deepEqual(res.json, { score: expected, model: version });
      }
      const v2 = await post(url + '/v2/models/fraud/infer', text);
      assert.equal(v2.status, 200);
      assert.deepEqual(v2.json.outputs, [{ name: 'score', datatype: 'FP32', shape: [1, 2], data: [1 - expected, expected] }]);
      assert.equal(v2.json.model_version, version);
    }
  }
});

test('a KServe v2 request with named inputs scores like the flat body', async (t) => {
  const models = await started(t);
  const [{ body }] = [...transactions(8, 1)];
  const inputs = Object.entries(body).map(([name, v]) => ({ name, datatype: 'BYTES', shape: [1], data: [v] }));
  const res = await post(models.challenger.url + '/v2/models/fraud/infer', JSON.stringify({ inputs }));
  const p = scoreDocument(CHALLENGER_MODEL, body)!;
  assert.deepEqual(res.json.outputs[0].data, [1 - p, p]);
});

test('bad JSON answers 400, unknown paths 404, other methods 405', async (t) => {
  const models = await started(t);
  for (const url of [models.champion.url, models.challenger.url]) {
    for (const bad of ['{"amount":', '', 'nope', '[1,2]', '"text"', 'null']) {
      const res = await post(url + '/score', bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.deepEqual(res.json, { error: 'bad_request' });
    }
    assert.equal((await post(url + '/v2/models/fraud/infer', '{')).status, 400);
    assert.equal((await post(url + '/nope', '{}')).status, 404);
    assert.equal((await post(url + '/', '{}')).status, 404);
    const get = await post(url + '/score', '', 'GET');
    assert.equal(get.status, 405);
    assert.equal(get.headers['allow'], 'POST');
  }
});

test('odd but valid bodies still get a finite score (robustness probe material)', async (t) => {
  const models = await started(t);
  const odd = [
    {}, { amount: null }, { amount: 'lots' }, { amount: 1e308 }, { amount: -5 }, { hour: 99.5 },
    { country: 'constructor' }, { country: '__proto__' }, { country: 'Ünïcødé' }, { country: 'x'.repeat(100000) },
    { deviceNew: 'yes' }, { inputs: [null, { name: 'amount' }, 7] },
  ];
  for (const body of odd) {
    for (const url of [models.champion.url, models.challenger.url]) {
      const res = await post(url + '/score', JSON.stringify(body));
      assert.equal(res.status, 200, JSON.stringify(body).slice(0, 80));
      assert.ok(Number.isFinite(res.json.score) && res.json.score >= 0 && res.json.score <= 1);
    }
  }
});

test('artificial delays apply per model', async (t) => {
  const models = await started(t, { championDelayMs: 150 });
  const body = JSON.stringify([...transactions(1, 1)][0]!.body);
  let start = performance.now();
  await post(models.champion.url + '/score', body);
  assert.ok(performance.now() - start >= 140);
  start = performance.now();
  await post(models.challenger.url + '/score', body);
  assert.ok(performance.now() - start < 140);
});

test('close() does not hang with a keep-alive client attached', async () => {
  const models = await startDemoModels();
  const client = new Client(models.champion.url, { keepAliveTimeout: 60_000 });
  try {
    const res = await client.request({ method: 'POST', path: '/score', body: '{}' });
    await res.body.dump();
    const start = performance.now();
    await models.close();
    assert.ok(performance.now() - start < 500, 'idle keep-alive connection held close() up');
  } finally {
    await client.destroy();
  }
});

test('close() answers a delayed request at once and still returns promptly', async () => {
  const models = await startDemoModels({ challengerDelayMs: 10_000 });
  const pending = post(models.challenger.url + '/score', '{}');
  await new Promise((r) => setTimeout(r, 50));
  const start = performance.now();
  await models.close();
  assert.ok(performance.now() - start < 500);
  assert.equal((await pending).status, 200);
});

test('close() is bounded even when a client never finishes its request', async () => {
  const models = await startDemoModels();
  const { port } = new URL(models.champion.url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  socket.write('POST /score HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{"amount"');
  await new Promise((r) => setTimeout(r, 50));
  const start = performance.now();
  await models.close();
  assert.ok(performance.now() - start < 3000);
  socket.destroy();
});
