import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { jsonLine } from '../../src/records/sink.js';

/** What pino writes for `record` at info level with the sinks' options (time fixed). */
function pinoLine(record: object, msg: string): string {
  let out = '';
  const logger = pino({ base: null, timestamp: () => ',"time":123' }, { write: (s: string) => void (out = s) });
  logger.info(record, msg);
  return out;
}

test('jsonLine writes the pair sink\'s lines byte for byte as pino would', () => {
  const records: object[] = [
    {
      requestId: 'r-"1"\u2028',
      route: 'POST /predict',
      unit: null,
      bucket: 0.123456789,
      champion: { version: 'v1', status: 200, latencyMs: 1.25, score: 0.5, decision: true, error: null },
      challenger: { version: 'v2', status: null, latencyMs: null, score: null, decision: null, error: { kind: 'skipped', message: 'traffic.shadow is off' } },
      fields: { country: 'FR', missing: undefined, nested: { a: [1, 'x'] } },
      request: undefined,
    },
    {},
  ];
  for (const r of records) {
    for (const msg of ['pair', 'event']) {
      assert.equal(jsonLine(r, msg).replace(/"time":\d+/, '"time":123'), pinoLine(r, msg));
    }
  }
});

test('jsonLine stamps the current time in epoch ms', () => {
  const before = Date.now();
  const line = JSON.parse(jsonLine({ a: 1 }, 'pair')) as { time: number; level: number; msg: string; a: number };
  assert.ok(line.time >= before && line.time <= Date.now());
  assert.deepEqual({ level: line.level, msg: line.msg, a: line.a }, { level: 30, msg: 'pair', a: 1 });
});
