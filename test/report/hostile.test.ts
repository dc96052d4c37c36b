/**
 * Hostile log files and flag values: they can fail the report with a clear message, never change
 * what it computes (docs/reliability.md, "The report"). Every test writes real files and runs the
 * report over them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { buildReport, runReport, type Report } from '../../src/commands/report.js';
import { cleanFile } from '../../src/report/clean-lines.js';
import { createJsonLinesTable, loadJsonLines, scalar } from '../../src/report/jsonl.js';
import { diff, referenceReport } from './reference.js';
import { io, outcome, pair, randomLogs, tempDir, writeLogs } from './helpers.js';

 


/** Runs `ccrouter report` in every format; each must exit 0. */
async function allFormats(args: string[]): Promise<{ json: Report; jsonText: string; text: string; html: string }> {
  const outputs: Record<string, string> = {};
  for (const format of ['json', 'text', 'html']) {
    const cap = io();
    const code = await runReport([...args, '--format', format], cap.io);
    assert.equal(code, 0, `--format ${format}: ${cap.err.join('')}`);
    outputs[format] = cap.out.join('');
  }
  return { json: JSON.parse(outputs.json!) as Report, jsonText: outputs.json!, text: outputs.text!, html: outputs.html! };
}

// Item: one finite but huge number fails the whole report; Infinity reaches SQL text.

test('one huge score (1e160, -1.7e308, 1e300) does not fail the report: read as absent, counted, flagged', async (t) => {
  const dir = tempDir(t);
  const logs = randomLogs(11, 300);
  const hostile: [number, string, 'champion' | 'challenger' | null][] = [
    [3, 'score', 'champion'], [17, 'score', 'challenger'], [40, 'latencyMs', 'champion'],
    [41, 'normalized', 'challenger'], [77, 'time', null], [78, 'score', 'champion'],
  ];
  const values = [1e160, -1.7e308, 1e300, 1e200, -1e300, 5e15];
  const clean = structuredClone(logs.pairs);
  let expectedCount = 0;
  hostile.forEach(([i, key, role], k) => {
    const p = logs.pairs[i]!;
    const target = role ? p[role] : p;
    if (role && (target.error || target.score === null) && key !== 'latencyMs') {
      Object.assign(target, { score: 0.5, decision: true, error: null, status: 200, latencyMs: 10 });
      Object.assign(clean[i]![role], { score: 0.5, decision: true, error: null, status: 200, latencyMs: 10 });
    }
    target[key] = values[k]!;
    (role ? clean[i]![role] : clean[i]!)[key] = null;
    if (!p.error) expectedCount++;
  });
  writeLogs(dir, { 'pairs.jsonl': logs.pairs, 'events.jsonl': logs.events, 'outcomes.jsonl': logs.outcomes });
  const cleanDir = tempDir(t);
  writeLogs(cleanDir, { 'pairs.jsonl': clean, 'events.jsonl': logs.events, 'outcomes.jsonl': logs.outcomes });

  const { json, jsonText, text, html } = await allFormats(['--logs', dir]);
  assert.doesNotMatch(jsonText, /NaN|Infinity/);
  assert.ok(expectedCount >= 5);
  assert.equal(json.window.outOfRange, expectedCount);
  // Every other figure is what the same records give with those values absent.
  const without = await buildReport({ logs: cleanDir });
  assert.equal(diff(json, { ...without, window: { ...without.window, outOfRange: expectedCount }, flags: json.flags }), null);
  assert.deepEqual(json.flags.filter((f: string) => f !== 'out_of_range_values'), without.flags);
  assert.ok(json.flags.includes('out_of_range_values'));
  assert.equal(diff(json, referenceReport({ pairs: logs.pairs, events: logs.events, outcomeFiles: [logs.outcomes] })), null);
  assert.match(text, new RegExp(`! ${expectedCount} values out of range`));
  assert.match(text, new RegExp(`${expectedCount} out-of-range values`));
  assert.match(html, /values out of range/);
});

test('NaN, Infinity and 1e400 written into a pair file are out of range, never a figure', async (t) => {
  const dir = tempDir(t);
  const base = Array.from({ length: 30 }, (_, i) => pair({ champion: outcome({ score: i / 30 }), challenger: outcome({ role: 'challenger', score: i / 31 }) }));
  const raw = (score: string) => JSON.stringify(pair()).replace('"score":0.5', `"score":${score}`);
  writeLogs(dir, { 'pairs.jsonl': [...base.map((p) => JSON.stringify(p)), raw('NaN'), raw('Infinity'), raw('-Infinity'), raw('1e400'), raw('"1e400"')] });
  const { json, jsonText } = await allFormats(['--logs', dir]);
  assert.doesNotMatch(jsonText, /NaN|Infinity/);
  assert.equal(json.window.records, 35);
  assert.equal(json.window.outOfRange, 5);
  assert.equal(json.agreement.n, 30);
  assert.ok(json.models.champion.score.p99! <= 1);
});

test('scores of ±1.7e308 where only one model scored: the HTML chart queries never see Infinity', async (t) => {
  const dir = tempDir(t);
  const skipped = outcome({ role: 'challenger', error: { kind: 'skipped', message: 'shadow off' } });
  writeLogs(dir, {
    'pairs.jsonl': [
      pair({ champion: outcome({ score: 1.7e308 }), challenger: skipped }),
      pair({ champion: outcome({ score: -1.7e308 }), challenger: skipped }),
      pair({ time: -8e15 }),
      ...Array.from({ length: 10 }, (_, i) => pair({ time: 8.6e15 + i, champion: outcome({ score: i / 10 }) })),
    ],
  });
  const { json, html } = await allFormats(['--logs', dir]);
  assert.equal(json.window.outOfRange, 2);
  assert.match(html, /<svg/);
});

test('scores and times at the edges of the range (±1e15, ±8.64e15 ms) render in every format', async (t) => {
  const dir = tempDir(t);
  writeLogs(dir, {
    'pairs.jsonl': [
      pair({ time: -8.64e15, champion: outcome({ score: -1e15, latencyMs: 1e15 }) }),
      pair({ time: 8.64e15, challenger: outcome({ role: 'challenger', score: 1e15 }) }),
      ...Array.from({ length: 10 }, (_, i) => pair({ champion: outcome({ score: i / 10 }) })),
    ],
    'outcomes.jsonl': [],
  });
  const { json, jsonText, html } = await allFormats(['--logs', dir]);
  assert.doesNotMatch(jsonText, /NaN|Infinity/);
  assert.equal(json.window.outOfRange, 0);
  assert.equal(json.window.from, -8.64e15);
  assert.equal(json.window.to, 8.64e15);
  // Near 1e15 a double steps by 0.125: the sum depends on the order of addition, within a few steps.
  assert.ok(Math.abs(json.models.champion.score.mean! - (-1e15 + 0.5 + 4.5) / 12) < 1);
  assert.match(html, /<svg/);
});

test('--since/--until beyond a date are usage errors, never SQL text (Infinity would read as a column)', async (t) => {
  const dir = tempDir(t);
  writeLogs(dir, { 'pairs.jsonl': [pair()] });
  for (const flag of ['--since', '--until']) {
    const cap = io();
    assert.equal(await runReport(['--logs', dir, flag, '9'.repeat(400)], cap.io), 2);
    assert.match(cap.err.join(''), new RegExp(`${flag}: "9+" is beyond the range of a date`));
  }
  for (const since of [Infinity, NaN, 1e300]) {
    await assert.rejects(buildReport({ logs: dir, since }), (err: any) => err.code === 'CCR_ERR_USAGE' && /--since/.test(err.message));
  }
  await assert.rejects(buildReport({ logs: dir, segment: 'a\0b' }), (err: any) => err.code === 'CCR_ERR_USAGE' && /--segment/.test(err.message));
});

test('a config id with a quote, a NUL and a bidi override still finds its announcing event (bound, not spliced)', async (t) => {
  const dir = tempDir(t);
  const config = "cfg'\u0000\u202e--";
  const pairs = Array.from({ length: 40 }, (_, i) => pair({ config, group: i % 5 === 0 ? 'control' : i % 2 ? 'champion' : 'challenger' }));
  writeLogs(dir, {
    'pairs.jsonl': pairs,
    'events.jsonl': [{ level: 30, time: 1, msg: 'event', type: 'start', config, traffic: { control: 0.2, challenger: 0.4 } }],
  });
  const { json, text } = await allFormats(['--logs', dir]);
  assert.equal(json.traffic.srm.config, config);
  assert.notEqual(json.traffic.srm.chi2, null);
  assert.equal(diff(json, referenceReport({ pairs, events: [{ config, msg: 'event', traffic: { control: 0.2, challenger: 0.4 } }], outcomeFiles: [] })), null);
  assert.match(text, /SRM: config cfg'\\u0000\\u202e--, chi2/);
});

test('an event announcing fractions outside [0, 1] (or huge ones) is not used for the SRM check', async (t) => {
  const dir = tempDir(t);
  const pairs = Array.from({ length: 20 }, () => pair({ config: 'c1' }));
  const events = [
    { msg: 'event', type: 'start', config: 'c1', traffic: { control: 1e300, challenger: -1e300 } },
    { msg: 'event', type: 'config_loaded', config: 'c1', traffic: { control: 0, challenger: 0 } },
  ];
  writeLogs(dir, { 'pairs.jsonl': pairs, 'events.jsonl': events });
  const r = await buildReport({ logs: dir });
  assert.equal(diff(r, referenceReport({ pairs, events, outcomeFiles: [] })), null);
  assert.deepEqual(r.traffic.srm, { config: 'c1', chi2: 0, pValue: 1, flag: false });
});

// Item: log paths are read as glob patterns.

test('a log directory literally named logs[1] is read as itself, not as logs1', async (t) => {
  const root = tempDir(t);
  writeLogs(path.join(root, 'logs[1]'), { 'pairs.jsonl': Array.from({ length: 3 }, () => pair()), 'outcomes.jsonl': [{ requestId: 'x', label: 1 }] });
  writeLogs(path.join(root, 'logs1'), { 'pairs.jsonl': Array.from({ length: 5 }, () => pair()), 'outcomes.jsonl': [{ requestId: 'x', label: 1 }, { requestId: 'y', label: 1 }] });
  const r = await buildReport({ logs: path.join(root, 'logs[1]') });
  assert.equal(r.window.records, 3);
  assert.deepEqual(r.labels.outcomes, { accepted: 1, rejected: 0 });
  // The other glob characters, in a directory name and in --outcomes file names.
  for (const name of ['logs*', 'logs?', 'a[b]c', 'x{1,2}']) {
    const dir = path.join(root, 'more', name);
    writeLogs(dir, { 'pairs.jsonl': [pair(), pair()] });
    writeLogs(path.join(root, 'more', name.replace(/[^a-z]/g, '') + 'zz'), { 'pairs.jsonl': [pair()] });
    assert.equal((await buildReport({ logs: dir })).window.records, 2, name);
  }
});

test('a pair file literally named pairs*.jsonl is read once, not together with its siblings', async (t) => {
  const dir = tempDir(t);
  writeLogs(dir, {
    'pairs*.jsonl': [pair(), pair()],
    'pairs.jsonl': [pair(), pair(), pair()],
    'pairs-w1.jsonl': [pair(), pair(), pair(), pair()],
    'pairs?.jsonl': [pair()],
    'pairs[w]1.jsonl': [pair()],
    'labels*.jsonl': [{ requestId: 'a', label: 1 }],
    'labels-other.jsonl': [{ requestId: 'b', label: 1 }, { requestId: 'c', label: 1 }],
  });
  const r = await buildReport({ logs: dir, outcomes: [path.join(dir, 'labels*.jsonl')] });
  assert.equal(r.window.records, 11);
  assert.deepEqual(r.labels.outcomes, { accepted: 1, rejected: 0 });
});

test('file names with glob characters on the slow path (files cleaned in Node) are read as themselves', async (t) => {
  const root = tempDir(t);
  const dir = path.join(root, 'd[1]');
  const lines = ['{"time":1,"msg":"a"}', '{', '}', 'oops', '{"time":2,"msg":"b"}'];
  writeLogs(dir, { 'p*.jsonl': lines, 'pq.jsonl': ['{"time":5,"msg":"c"}'] });
  writeLogs(path.join(root, 'd1'), { 'p*.jsonl': ['{"time":7,"msg":"z"}'] });
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  t.after(() => {
    conn.closeSync();
    db.closeSync();
  });
  const columns = { time: 'DOUBLE', msg: 'VARCHAR' };
  for (const skip of [[], ['typed', 'objects']] as const) {
    await createJsonLinesTable(conn, 't', columns);
    const res = await loadJsonLines(conn, 't', [path.join(dir, 'p*.jsonl')], { columns, batch: 0, suspect: 'time IS NULL AND msg IS NULL', skip });
    assert.equal(res.malformed, 3);
    assert.equal(await scalar(conn, 'SELECT sum(time) FROM t'), 3, `skip ${skip.join()}`);
  }
});

// Item: keys named __proto__ or constructor vanish or print NaN.

const PROTO_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

test('segment values __proto__, constructor, toString keep their records in the segment table', async (t) => {
  const dir = tempDir(t);
  const pairs = PROTO_KEYS.flatMap((v, i) => Array.from({ length: i + 1 }, () => pair({ fields: { plan: v } })));
  const outcomes = pairs.map((p, i) => ({ requestId: p.requestId, label: i % 2 }));
  writeLogs(dir, { 'pairs.jsonl': pairs, 'outcomes.jsonl': outcomes });
  const { json, text, html } = await allFormats(['--logs', dir, '--segment', 'plan']);
  const segs = json.segments!;
  assert.deepEqual(Object.keys(segs).sort(), [...PROTO_KEYS].sort());
  PROTO_KEYS.forEach((v, i) => assert.equal(Object.getOwnPropertyDescriptor(segs, v)?.value.n, i + 1, v));
  const r = await buildReport({ logs: dir, segment: 'plan' });
  assert.equal(Object.getPrototypeOf(r.segments), Object.prototype);
  assert.equal(diff(r, referenceReport({ pairs, events: [], outcomeFiles: [outcomes], segment: 'plan' })), null);
  for (const v of PROTO_KEYS) {
    assert.match(text, new RegExp(`\\n  ${v} +\\d`), v);
    assert.match(html, new RegExp(`<th scope="row">${v}</th>`), v);
  }
  assert.doesNotMatch(text, /NaN/);
});

test('a segment field named __proto__ or constructor groups by that field', async (t) => {
  const dir = tempDir(t);
  // Written as JSON text: in an object literal `__proto__` would set the prototype.
  const line = (id: string, fields: string) => JSON.stringify(pair({ requestId: id })).replace('"fields":{}', `"fields":${fields}`);
  writeLogs(dir, { 'pairs.jsonl': [line('a', '{"__proto__":"x","constructor":"y"}'), line('b', '{"__proto__":"x"}'), line('c', '{"__proto__":"z"}')] });
  const proto = await buildReport({ logs: dir, segment: '__proto__' });
  assert.deepEqual(Object.entries(proto.segments!).map(([k, s]) => [k, s.n]), [['x', 2], ['z', 1]]);
  const ctor = await buildReport({ logs: dir, segment: 'constructor' });
  assert.deepEqual(Object.entries(ctor.segments!).map(([k, s]) => [k, s.n]), [['null', 2], ['y', 1]]);
});

test('error kinds __proto__ and constructor are counted in byKind, and print as numbers', async (t) => {
  const dir = tempDir(t);
  const err = (role: 'champion' | 'challenger', kind: string) => outcome({ role, error: { kind, message: 'x' }, status: 500 });
  writeLogs(dir, {
    'pairs.jsonl': [
      pair({ champion: err('champion', '__proto__') }),
      pair({ champion: err('champion', '__proto__') }),
      pair({ challenger: err('challenger', 'constructor') }),
      pair({ challenger: err('challenger', 'toString') }),
      pair(),
    ],
  });
  const { json, text, html } = await allFormats(['--logs', dir]);
  const c = json.models.champion.errors.byKind;
  const h = json.models.challenger.errors.byKind;
  assert.deepEqual(Object.entries(c), [['__proto__', 2]]);
  assert.deepEqual(Object.entries(h).sort(), [['constructor', 1], ['toString', 1]]);
  assert.equal(json.models.champion.errors.rate, 2 / 5);
  assert.doesNotMatch(text, /NaN/);
  assert.doesNotMatch(html, /NaN/);
  assert.match(text, /\n {4}__proto__ +2 +0\n/);
  assert.match(text, /\n {4}constructor +0 +1\n/);
  assert.match(html, /<th scope="row">errors: constructor<\/th><td>0<\/td><td>1<\/td>/);
});

test('versions named __proto__ and constructor are reported as they are', async (t) => {
  const dir = tempDir(t);
  const v = (role: 'champion' | 'challenger', version: string) => outcome({ role, version });
  writeLogs(dir, {
    'pairs.jsonl': [
      pair({ champion: v('champion', '__proto__'), challenger: v('challenger', 'constructor') }),
      pair({ champion: v('champion', '__proto__'), challenger: v('challenger', 'constructor') }),
      pair({ champion: v('champion', 'toString'), challenger: v('challenger', 'hasOwnProperty') }),
    ],
  });
  const { json, text } = await allFormats(['--logs', dir]);
  assert.equal(json.models.champion.version, '__proto__');
  assert.equal(json.models.challenger.version, 'constructor');
  assert.match(text, /^ccrouter report: __proto__ \(champion\) vs constructor \(challenger\)/);
});

// Item: data strings printed with terminal controls and bidi overrides; a huge line; cost per file.

const UNSAFE_IN_OUTPUT = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]/u;

test('config ids, versions, error kinds and segment values are printed with controls and bidi characters escaped', async (t) => {
  const dir = tempDir(t);
  const config = 'cfg\u202e\u2028x\u001b[2J';
  const version = 'm-v1\u202egnp.exe\u0007';
  const kind = 'time\u200fout\u0085\u2066';
  const seg = 'US\u2029\u2067\u0000\ufeff';
  writeLogs(dir, {
    'pairs.jsonl': [
      pair({ config, champion: outcome({ version }), fields: { plan: seg } }),
      pair({ config, champion: outcome({ version }), challenger: outcome({ role: 'challenger', error: { kind, message: 'x' } }), fields: { plan: seg } }),
      pair({ config, fields: { plan: 'b\u009b31m' } }),
    ],
    'events.jsonl': [{ msg: 'event', type: 'start', config, traffic: { control: 0, challenger: 1 } }],
  });
  const { json, jsonText, text, html } = await allFormats(['--logs', dir, '--segment', 'plan']);
  // The JSON keeps every string exactly; its text holds them only as escapes.
  assert.equal(json.traffic.srm.config, config);
  assert.equal(json.models.champion.version, version);
  assert.deepEqual(Object.keys(json.models.challenger.errors.byKind), [kind]);
  assert.deepEqual(Object.keys(json.segments!).sort(), ['b\u009b31m', seg].sort());
  for (const [name, out] of [['json', jsonText], ['text', text], ['html', html]] as const) {
    const bad = UNSAFE_IN_OUTPUT.exec(out);
    assert.equal(bad, null, `${name}: U+${bad?.[0].codePointAt(0)!.toString(16)} printed raw`);
  }
  assert.match(text, /m-v1\\u202egnp\.exe\\u0007 \(champion\)/);
  assert.match(text, /SRM: config cfg\\u202e\\u2028x\\u001b\[2J/);
  assert.match(text, /time\\u200fout\\u0085\\u2066/);
  assert.match(text, /US\\u2029\\u2067\\u0000\\ufeff/);
  assert.match(text, /sample ratio mismatch on config cfg\\u202e/);
  assert.match(html, /m-v1\\u202egnp\.exe\\u0007/);
});

test('error messages naming a hostile file or value are printed with controls escaped', async (t) => {
  const root = tempDir(t);
  const dir = path.join(root, 'logs\u202e\u001b[31m');
  fs.mkdirSync(dir);
  const cap = io();
  assert.equal(await runReport(['--logs', dir], cap.io), 2);
  const err = cap.err.join('');
  assert.match(err, /logs\\u202e\\u001b\[31m: no pairs\*\.jsonl files/);
  assert.equal(UNSAFE_IN_OUTPUT.exec(err), null);
});

test('a line longer than the line limit counts as malformed, never held whole, never a RangeError', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'pairs.jsonl');
  const limit = 1024;
  const long = JSON.stringify(pair({ request: 'x'.repeat(5000) }));
  fs.writeFileSync(file, [JSON.stringify(pair()), long, '{"msg":"pair","time":1}\r', long + long, 'x'.repeat(3000), JSON.stringify(pair())].join('\n'));
  assert.deepEqual(await cleanFile(file, null, limit), { malformed: 3, objects: 3 });
  const out = path.join(dir, 'clean.jsonl');
  assert.deepEqual(await cleanFile(file, out, limit), { malformed: 3, objects: 3 });
  assert.equal(fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).length, 3);
  // A last line without a newline, over the limit, counts too.
  fs.writeFileSync(file, `${JSON.stringify(pair())}\n${long}`);
  assert.deepEqual(await cleanFile(file, null, limit), { malformed: 1, objects: 1 });
});

test('a pair line over the line limit is counted as malformed on every path and the report completes', async (t) => {
  const dir = tempDir(t);
  // The smallest limit the report takes (the default is 256 MiB): a 33 MiB line, not a huge file.
  const limit = 32 * 1024 * 1024;
  const body = 'x'.repeat(limit + 1024 * 1024);
  const pairs = Array.from({ length: 6 }, () => pair());
  fs.writeFileSync(path.join(dir, 'pairs.jsonl'),
    [...pairs.slice(0, 3).map((p) => JSON.stringify(p)), JSON.stringify(pair({ request: body })), ...pairs.slice(3).map((p) => JSON.stringify(p))].join('\n') + '\n');
  writeLogs(dir, { 'pairs.1.jsonl': [pair(), pair()], 'outcomes.jsonl': [{ requestId: pairs[0]!.requestId, label: 1 }] });
  const r = await buildReport({ logs: dir, maxLineBytes: limit });
  assert.equal(r.window.malformedLines, 1);
  assert.equal(r.window.records, 8);
  assert.equal(r.labels.n, 1);
});

test('many small rotated pair files give the same report as their records in one file', async (t) => {
  const many = tempDir(t);
  const one = tempDir(t);
  const logs = randomLogs(21, 600);
  const files: Record<string, object[]> = {};
  for (let i = 0; i < logs.pairs.length; i += 2) files[`pairs.${i / 2}.jsonl`] = logs.pairs.slice(i, i + 2);
  writeLogs(many, { ...files, 'events.jsonl': logs.events, 'outcomes.jsonl': logs.outcomes });
  writeLogs(one, { 'pairs.jsonl': logs.pairs, 'events.jsonl': logs.events, 'outcomes.jsonl': logs.outcomes });
  const a = await buildReport({ logs: many, segment: 'country' });
  const b = await buildReport({ logs: one, segment: 'country' });
  assert.equal(Object.keys(files).length, 300);
  assert.equal(diff(a, b), null);
  assert.equal(diff(a, referenceReport({ pairs: logs.pairs, events: logs.events, outcomeFiles: [logs.outcomes], segment: 'country' })), null);
});
