import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { request } from 'undici';
import { validateOutcome } from '../../src/admin/outcomes.js';
import { outcomeLine } from '../../src/admin/outcome-writer.js';
import { readJsonl, scoredProxy } from '../helpers/proxy.js';

test('validateOutcome keeps instance (a batch request\'s 0-based index) instead of dropping it', () => {
  assert.deepEqual(validateOutcome({ requestId: 'r', instance: 2, label: 1 }), { requestId: 'r', instance: 2, label: 1 });
  assert.deepEqual(validateOutcome({ requestId: 'r', instance: 0, label: false }), { requestId: 'r', instance: 0, label: 0 });
  assert.deepEqual(validateOutcome({ requestId: 'r', instance: null, label: 1 }), { requestId: 'r', label: 1 }, 'null: no instance');
});

test('validateOutcome: an instance that is not an integer >= 0, or without requestId, is rejected naming the field', () => {
  for (const [v, got] of [[-1, '-1'], [1.5, '1.5'], ['2', '"2"'], [[1], 'an array'], [true, 'true'], [2 ** 60, String(2 ** 60)]] as const) {
    assert.equal(validateOutcome({ requestId: 'r', instance: v, label: 1 }), `instance: must be an integer >= 0, got ${got}`);
  }
  assert.equal(validateOutcome({ unit: 'u', instance: 1, label: 1 }), "instance: only with requestId (it indexes that request's batch)");
});

test('outcomeLine writes instance after the ids', () => {
  assert.equal(outcomeLine({ requestId: 'r', instance: 3, label: 0 }, 5), '{"level":30,"time":5,"requestId":"r","instance":3,"label":0,"msg":"outcome"}\n');
});

test('POST /outcomes: instance reaches outcomes.jsonl; a bad one is rejected by index', async (t) => {
  const { p } = await scoredProxy(t);
  const res = await request(p.adminUrl + '/outcomes', {
    method: 'POST',
    headers: { authorization: 'Bearer secret-token' },
    body: '{"requestId":"b-1","instance":1,"label":1}\n{"requestId":"b-1","instance":-1,"label":1}\n{"requestId":"b-1","label":0}\n',
  });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(await res.body.json(), { accepted: 2, rejected: [{ index: 1, error: 'instance: must be an integer >= 0, got -1' }] });
  await p.shutdown();
  const lines = readJsonl(path.join(p.dir, 'outcomes.jsonl')).map(({ requestId, instance, label }) => ({ requestId, instance, label }));
  assert.deepEqual(lines, [{ requestId: 'b-1', instance: 1, label: 1 }, { requestId: 'b-1', instance: undefined, label: 0 }]);
});
