import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { runProbe, type ProbeIO } from '../../src/commands/probe.js';
import type { ProbeResult } from '../../src/probe/summary.js';

// --- a scripted model server: parses the body as JSON and lets the test decide the answer -------

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What the model does with a request: a score, a status, or 'destroy' (the socket is cut). */
type Answer = number | { status: number; body?: unknown } | 'destroy' | 'hang';
type Script = (doc: Record<string, unknown>) => Answer;

async function startModel(t: TestContext, script: Script): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      let doc: unknown;
      try {
        doc = JSON.parse(body);
      } catch {
        return json(res, 400, { error: 'bad_request' });
      }
      if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return json(res, 400, { error: 'bad_request' });
      const answer = script(doc as Record<string, unknown>);
      if (answer === 'destroy') return res.destroy();
      if (answer === 'hang') return;
      if (typeof answer === 'number') return json(res, 200, { score: answer });
      json(res, answer.status, answer.body ?? {});
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const fine: Script = () => 0.5;
const hasNull = (doc: Record<string, unknown>): boolean => Object.values(doc).some((v) => v === null);
const crashOnNull: Script = (doc) => (hasNull(doc) ? { status: 500, body: { error: 'NullPointerException' } } : 0.5);

// --- files and output -------------------------------------------------------------------------

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ccrouter-probe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const SAMPLES = [
  { amount: 100, country: 'US', hour: 5, deviceNew: false },
  { amount: 250.5, country: 'GB', hour: 22, deviceNew: true },
];

async function setup(t: TestContext, champion: Script, challenger: Script, opts: { timeoutMs?: number; prefix?: string } = {}) {
  const [a, b] = await Promise.all([startModel(t, champion), startModel(t, challenger)]);
  const dir = tempDir(t);
  const config = join(dir, 'ccrouter.json');
  const timeoutMs = opts.timeoutMs ?? 2000;
  writeFileSync(config, JSON.stringify({
    models: {
      champion: { url: a.url + (opts.prefix ?? ''), version: 'm-old', timeoutMs },
      challenger: { url: b.url + (opts.prefix ?? ''), version: 'm-new', timeoutMs },
    },
    routes: [{ method: 'PUT', path: '/predict', score: '/score' }, { path: '/other', score: '/x' }],
  }));
  const samples = join(dir, 'samples.json');
  writeFileSync(samples, JSON.stringify(SAMPLES));
  return { champion: a, challenger: b, dir, config, samples, out: join(dir, 'out.json') };
}

function capture(): ProbeIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => { out += s; } },
    stderr: { write: (s: string) => { err += s; } },
    env: {},
    out: () => out,
    err: () => err,
  };
}

async function probe(s: { config: string; samples: string; out: string }, extra: string[] = []) {
  const io = capture();
  const code = await runProbe(['--config', s.config, '--samples', s.samples, '--out', s.out, ...extra], io);
  const result = code === 2 ? null : (JSON.parse(readFileSync(s.out, 'utf8')) as ProbeResult);
  return { code, out: io.out(), err: io.err(), result };
}

// --- the verdict --------------------------------------------------------------------------------

test('a challenger that answers 500 on null fields while the champion does not: exit 1, kind named', async (t) => {
  const s = await setup(t, fine, crashOnNull);
  const { code, out, err, result } = await probe(s);
  assert.equal(err, '');
  assert.equal(code, 1);
  assert.match(out, /result: CHALLENGER WORSE, it fails where the champion does not on: null\n/);
  assert.match(out, /^ {2}null {2}fields \/amount, \/country, \/hour, \/deviceNew$/m);
  assert.deepEqual(result!.challengerWorse, [{ kind: 'null', fields: ['/amount', '/country', '/hour', '/deviceNew'] }]);
  assert.deepEqual(result!.results.challenger.null, { calls: 8, status4xx: 0, status5xx: 8, connectionErrors: 0, noScore: 0, meanAbsScoreDelta: null });
  assert.equal(result!.results.champion.null.status5xx, 0);
  assert.equal(result!.failures.filter((f) => f.model === 'challenger').length, 8);
});

test('a challenger that cuts the socket on long strings and never scores an empty object: both kinds named', async (t) => {
  const s = await setup(t, fine, (doc) => {
    if (Object.keys(doc).length === 0) return { status: 200, body: { result: 'ok' } };
    return Object.values(doc).some((v) => typeof v === 'string' && v.length > 1000) ? 'destroy' : 0.5;
  });
  const { code, out, result } = await probe(s);
  assert.equal(code, 1);
  assert.match(out, /fails where the champion does not on: long_string, empty_object\n/);
  assert.match(out, /^ {2}empty_object {2}whole body$/m);
  assert.equal(result!.results.challenger.long_string.connectionErrors, 2);
  assert.equal(result!.results.challenger.empty_object.noScore, 1);
});

test('a challenger that hangs past its timeoutMs: a connection error, not a stuck probe', async (t) => {
  const s = await setup(t, fine, (doc) => (doc['country'] === 'Ünïcødé ✓ 中文 🚀' ? 'hang' : 0.5), { timeoutMs: 1500 });
  const { code, result } = await probe(s);
  assert.equal(code, 1);
  assert.deepEqual(result!.challengerWorse, [{ kind: 'non_ascii', fields: ['/country'] }]);
  assert.equal(result!.results.challenger.non_ascii.connectionErrors, 2);
  assert.match(result!.failures.find((f) => f.kind === 'non_ascii')!.error, /^timeout: /);
});

test('the reverse (the champion crashes on null, the challenger does not): exit 0', async (t) => {
  const s = await setup(t, crashOnNull, fine);
  const { code, out, result } = await probe(s);
  assert.equal(code, 0);
  assert.match(out, /result: ok, the challenger fails on no kind where the champion does not\n/);
  assert.equal(result!.results.champion.null.status5xx, 8);
  assert.deepEqual(result!.challengerWorse, []);
});

test('both failing on the same kind is not the challenger being worse: exit 0', async (t) => {
  const s = await setup(t, crashOnNull, (doc) => (hasNull(doc) ? 'destroy' : 0.5));
  const { code } = await probe(s);
  assert.equal(code, 0);
});

/** Whether `doc` is one of the samples untouched. */
const isSample = (doc: Record<string, unknown>): boolean => SAMPLES.some((x) => JSON.stringify(x) === JSON.stringify(doc));
const notFound = { status: 404, body: { error: 'model not found' } };

test('a challenger that answers 404 to everything, the untouched samples included, fails the probe: exit 1 on original', async (t) => {
  const s = await setup(t, fine, () => notFound);
  const { code, out, result } = await probe(s);
  assert.equal(code, 1);
  assert.match(out, /result: CHALLENGER WORSE, it fails where the champion does not on: original\n/);
  assert.match(out, /^ {2}original {2}whole body$/m);
  assert.deepEqual(result!.challengerWorse, [{ kind: 'original', fields: [] }]);
  assert.deepEqual(result!.results.challenger.original, { calls: 2, status4xx: 2, status5xx: 0, connectionErrors: 0, noScore: 0, meanAbsScoreDelta: null });
  // The 4xx column shows the rest; a 404 to a perturbed body is no failure.
  assert.equal(result!.results.challenger.null.status4xx, 8);
  assert.deepEqual(result!.failures.filter((f) => f.model === 'challenger').map((f) => [f.kind, f.sample, f.error]), [['original', 0, 'status 404'], ['original', 1, 'status 404']]);
  assert.match(out, /^original\s+2\s+0\s+0\s+0\s+0\s+-\s+2\s+0\s+0\s+0\s+-$/m);
});

test('a challenger that 404s only perturbed bodies, as the champion does, passes: exit 0', async (t) => {
  const strict = (doc: Record<string, unknown>) => (isSample(doc) ? 0.5 : notFound);
  const s = await setup(t, strict, strict);
  const { code, out, result } = await probe(s);
  assert.equal(code, 0);
  assert.match(out, /result: ok/);
  assert.doesNotMatch(out, /^note:/m);
  assert.deepEqual(result!.challengerWorse, []);
  assert.equal(result!.results.challenger.original.status4xx, 0);
  assert.equal(result!.results.challenger.field_removed.status4xx, 8);
  assert.deepEqual(result!.failures, []);
});

test('a champion that does not score the untouched samples: the probe says the samples or route are wrong', async (t) => {
  const s = await setup(t, () => notFound, () => notFound);
  const { code, out } = await probe(s);
  assert.equal(code, 0, 'the challenger is no worse than the champion');
  assert.match(out, /^note: the champion did not score 2 of 2 untouched samples; check --samples and the config's first route$/m);
});

test('each model is probed on its own path with its own headers (models.<role>.paths, headers)', async (t) => {
  const s = await setup(t, fine, fine);
  const cfg = JSON.parse(readFileSync(s.config, 'utf8'));
  cfg.models.challenger.paths = { '/predict': '/v1/models/m-new:predict' };
  cfg.models.challenger.headers = { authorization: 'Bearer new', 'x-ccrouter-extra': 'yes' };
  writeFileSync(s.config, JSON.stringify(cfg));
  const { code } = await probe(s);
  assert.equal(code, 0);
  assert.ok(s.champion.seen.every((r) => r.url === '/predict' && r.headers.authorization === undefined));
  assert.ok(s.challenger.seen.every((r) => r.url === '/v1/models/m-new:predict' && r.headers.authorization === 'Bearer new' && r.headers['x-ccrouter-role'] === 'probe'));
});

test('both fine: exit 0, every kind tallied for both models, 4xx on malformed JSON is no failure', async (t) => {
  const s = await setup(t, fine, fine);
  const { code, out, result } = await probe(s, ['--concurrency', '3']);
  assert.equal(code, 0);
  assert.equal(result!.samples, 2);
  for (const role of ['champion', 'challenger'] as const) {
    const r = result!.results[role];
    assert.equal(r.malformed_json.status4xx, 2);
    for (const [kind, tally] of Object.entries(r)) {
      assert.equal(tally.status5xx + tally.connectionErrors + tally.noScore, 0, `${role} ${kind}`);
    }
    assert.equal(Object.values(r).reduce((n, tally) => n + tally.calls, 0), result!.variants);
  }
  for (const kind of Object.keys(result!.results.champion)) assert.match(out, new RegExp(`^${kind} `, 'm'));
});

test('calls go straight to each model: first scored route, its method, the URL prefix, probe headers', async (t) => {
  const s = await setup(t, fine, fine, { prefix: '/base' });
  await probe(s);
  for (const model of [s.champion, s.challenger]) {
    assert.ok(model.seen.length > 0);
    for (const r of model.seen) {
      assert.equal(r.method, 'PUT');
      assert.equal(r.url, '/base/predict');
      assert.equal(r.headers['x-ccrouter-role'], 'probe');
      assert.equal(r.headers['content-type'], 'application/json');
    }
  }
  assert.ok(s.challenger.seen.some((r) => r.body === JSON.stringify(SAMPLES[0])), 'the untouched sample is sent too');
});

test('jitter: the mean absolute score change against the untouched sample, per model', async (t) => {
  // Scores linear in amount; hour does not count. Sample 0: amount 100 → ±1 changes the score by
  // ±0.001 (champion) / ±0.002 (challenger); sample 1: amount 250.5 → ±2.505 → ±0.002505 / ±0.00501.
  // Four jitter variants move hour (delta 0): mean = (2·0.001 + 2·0.002505 + 4·0) / 8 for the champion.
  const byAmount = (k: number): Script => (doc) => (typeof doc['amount'] === 'number' ? doc['amount'] * k : 0);
  const s = await setup(t, byAmount(0.001), byAmount(0.002));
  const { code, result } = await probe(s);
  assert.equal(code, 0);
  const champion = result!.results.champion.jitter;
  const challenger = result!.results.challenger.jitter;
  assert.equal(champion.calls, 8);
  assert.ok(Math.abs(champion.meanAbsScoreDelta! - (2 * 0.001 + 2 * 0.002505) / 8) < 1e-12, String(champion.meanAbsScoreDelta));
  assert.ok(Math.abs(challenger.meanAbsScoreDelta! - (2 * 0.002 + 2 * 0.00501) / 8) < 1e-12, String(challenger.meanAbsScoreDelta));
});

// --- usage and input errors: exit 2, the flag or file named -------------------------------------

async function usage(argv: string[]): Promise<{ code: number; err: string }> {
  const io = capture();
  const code = await runProbe(argv, io);
  assert.equal(io.out(), '');
  return { code, err: io.err() };
}

test('usage errors: missing --config or --samples, unknown flag, bad --concurrency', async (t) => {
  const s = await setup(t, fine, fine);
  assert.deepEqual(await usage(['--samples', s.samples]), { code: 2, err: 'ccrouter probe: flag --config is required (see ccrouter probe --help)\n' });
  assert.deepEqual(await usage(['--config', s.config]), { code: 2, err: 'ccrouter probe: flag --samples is required (see ccrouter probe --help)\n' });
  assert.deepEqual(await usage(['--config', s.config, '--samples', s.samples, '--bogus']), { code: 2, err: 'ccrouter probe: unknown flag --bogus (see ccrouter probe --help)\n' });
  const bad = await usage(['--config', s.config, '--samples', s.samples, '--concurrency', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--concurrency: must be an integer from 1 to 1024, got "0"/);
  assert.equal(s.champion.seen.length, 0, 'nothing is sent on a usage error');
});

test('--help prints the usage and exits 0', async () => {
  const io = capture();
  assert.equal(await runProbe(['--help'], io), 0);
  assert.match(io.out(), /^Usage: ccrouter probe --config FILE --samples FILE/);
});

test('a config that is missing or invalid: exit 2 naming the file', async (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'nope.yaml');
  const r1 = await usage(['--config', missing, '--samples', join(dir, 's.json')]);
  assert.equal(r1.code, 2);
  assert.ok(r1.err.includes(missing), r1.err);
  const invalid = join(dir, 'bad.yaml');
  writeFileSync(invalid, 'models: {}\n');
  const r2 = await usage(['--config', invalid, '--samples', join(dir, 's.json')]);
  assert.equal(r2.code, 2);
  assert.ok(r2.err.includes(invalid), r2.err);
});

test('a bad samples file: exit 2 naming the file, and the line or item at fault', async (t) => {
  const s = await setup(t, fine, fine);
  const cases: Array<[string, string, RegExp]> = [
    ['missing.json', '', /cannot read samples .*missing\.json: no such file/],
    ['numbers.json', '[{"a":1}, 2]', /numbers\.json: item 1 is a number, expected a JSON object/],
    ['broken-array.json', '[\n{"a":1},\n{"a":\n]', /broken-array\.json line 4: not valid JSON \(Unexpected token '\]'\)\n$/],
    ['typo-deep.json', `[\n${'{"a":1},\n'.repeat(30)}{"a": x}\n]`, /typo-deep\.json line 32: not valid JSON \(Unexpected token 'x'\)\n$/],
    ['missing-comma.json', '[\n{"a":1}\n{"a":2}\n]', /missing-comma\.json line 3: not valid JSON \(Expected ',' or '\]' after array element\)\n$/],
    ['unclosed.json', '[\n{"a":1},\n{"a":2}\n', /unclosed\.json line 3: not valid JSON/],
    ['lines.ndjson', '{"a":1}\n\n{"a":2}\n{"a":\n', /lines\.ndjson line 4: not valid JSON/],
    ['scalar-line.ndjson', '{"a":1}\n"text"\n', /scalar-line\.ndjson line 2: expected a JSON object, got a string/],
    ['empty.json', '\n\n', /empty\.json: no samples/],
    ['empty-array.json', '[]', /empty-array\.json: the array is empty/],
  ];
  for (const [name, text, message] of cases) {
    const file = join(s.dir, name);
    if (text !== '' || name !== 'missing.json') writeFileSync(file, text);
    const { code, err } = await usage(['--config', s.config, '--samples', file]);
    assert.equal(code, 2, name);
    assert.ok(err.includes(file), `${name}: ${err}`);
    assert.match(err, message);
  }
  assert.equal(s.challenger.seen.length, 0);
});

test('NDJSON samples and one pretty-printed object are accepted', async (t) => {
  const s = await setup(t, fine, fine);
  writeFileSync(s.samples, SAMPLES.map((x) => JSON.stringify(x)).join('\r\n') + '\r\n');
  assert.equal((await probe(s)).result!.samples, 2);
  writeFileSync(s.samples, JSON.stringify(SAMPLES[0], null, 2));
  assert.equal((await probe(s)).result!.samples, 1);
});
