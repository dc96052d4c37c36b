import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Unwritable } from '../../src/records/bound.js';
import { degradedLine } from '../../src/records/degrade.js';
import { pairLine } from '../../src/records/pair-line.js';
import { openSink } from '../../src/records/sink.js';
import { skipped, type PairRecord } from '../../src/records/types.js';
import { tempDir } from '../helpers/proxy.js';

/** Nested past what JSON.stringify's recursion can take: a value no bound was applied to. */
const tooDeep = () => JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;

function record(extra: Partial<PairRecord> = {}): PairRecord {
  return {
    requestId: 'r-1',
    route: 'POST /predict',
    config: 'abc',
    unit: 'u-1',
    assigned: 'key',
    bucket: 0.5,
    group: 'champion',
    served: 'champion',
    fallback: false,
    champion: { version: 'v1', status: 200, latencyMs: 1, score: 0.8, decision: true, error: null },
    challenger: skipped('v2', 'traffic.shadow is off'),
    agree: null,
    fields: { country: 'US' },
    ...extra,
  };
}

function capture(err: () => unknown): unknown {
  try {
    err();
  } catch (e) {
    return e;
  }
  assert.fail('expected a throw');
}

test('a record whose field cannot be serialized: the same line without that field, with recordError naming it', () => {
  const r = record({ fields: { country: 'US', deep: tooDeep() } });
  const err = capture(() => pairLine(r, 1000));
  assert.ok(err instanceof RangeError);
  const { text, error } = degradedLine(r, 'pair', 1000, err, pairLine);
  assert.ok(text.endsWith('}\n'));
  assert.ok(text.startsWith('{"level":30,"time":1000,"msg":"pair","requestId":"r-1",'), 'the serializer\'s own layout');
  const line = JSON.parse(text);
  assert.deepEqual(line.fields, { country: 'US' });
  assert.deepEqual(line.recordError, { message: 'Maximum call stack size exceeded', dropped: ['fields.deep'] });
  assert.deepEqual(error.dropped, ['fields.deep']);
  assert.equal(line.champion.score, 0.8);
  assert.equal(line.unit, 'u-1');
});

test('an Unwritable body (a copy that failed) is left out of the record, which says so', () => {
  const r = record({ request: new Unwritable('cannot copy the body: boom'), response: { score: 0.8 } });
  const err = capture(() => pairLine(r, 1));
  const line = JSON.parse(degradedLine(r, 'pair', 1, err, pairLine).text);
  assert.equal('request' in line, false);
  assert.deepEqual(line.response, { score: 0.8 });
  assert.deepEqual(line.recordError, { message: 'cannot copy the body: boom', dropped: ['request'] });
});

test('when the serializer cannot write even the pruned record, the record is written in the generic form', () => {
  const broken = { requestId: 'r-2', fields: { a: 1, bad: new Unwritable('nope') } } as unknown as PairRecord;
  const err = capture(() => pairLine(broken, 5));
  const line = JSON.parse(degradedLine(broken, 'pair', 5, err, pairLine).text);
  assert.equal(line.msg, 'pair');
  assert.equal(line.time, 5);
  assert.equal(line.requestId, 'r-2');
  assert.deepEqual(line.fields, { a: 1 });
  assert.deepEqual(line.recordError.dropped, ['fields.bad']);
});

test('last resort: a record that cannot even be walked still gives a line with its requestId', () => {
  const hostile = new Proxy({ requestId: 'r-3' }, { ownKeys() { throw new Error('no keys'); } }) as unknown as PairRecord;
  const { text } = degradedLine(hostile, 'pair', 7, new Error('first failure'), pairLine);
  const line = JSON.parse(text);
  assert.deepEqual(line, { level: 30, time: 7, msg: 'pair', requestId: 'r-3', recordError: { message: 'first failure', dropped: ['*'] } });
});

test('pair sink: a record that cannot be serialized is still written (degraded), counted once through onError, told once on stderr', async (t) => {
  const file = path.join(tempDir(), 'pairs.jsonl');
  const errors: string[] = [];
  const stderrWrite = process.stderr.write.bind(process.stderr);
  const told: string[] = [];
  process.stderr.write = ((chunk: string) => { told.push(String(chunk)); return true; }) as typeof process.stderr.write;
  t.after(() => { process.stderr.write = stderrWrite; });
  const sink = await openSink<PairRecord>(file, { line: pairLine, onError: (e) => errors.push(e.message) });
  sink.write(record({ requestId: 'ok-1' }), 'pair');
  assert.doesNotThrow(() => sink.write(record({ requestId: 'bad-1', fields: { country: 'FR', deep: tooDeep() } }), 'pair'));
  assert.doesNotThrow(() => sink.write(record({ requestId: 'bad-2', request: tooDeep() }), 'pair'));
  sink.write(record({ requestId: 'ok-2' }), 'pair');
  await sink.close();
  process.stderr.write = stderrWrite;
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.requestId), ['ok-1', 'bad-1', 'bad-2', 'ok-2']);
  assert.deepEqual(lines[1].fields, { country: 'FR' });
  assert.deepEqual(lines[1].recordError.dropped, ['fields.deep']);
  assert.deepEqual(lines[2].recordError.dropped, ['request']);
  assert.equal(lines[0].recordError, undefined);
  assert.equal(errors.length, 2, 'each degraded record counted');
  const warnings = told.filter((l) => l.includes('could not be serialized'));
  assert.equal(warnings.length, 1, told.join(''));
  assert.match(warnings[0]!, /pairs\.jsonl.*fields\.deep.*logWriteErrors/);
});
