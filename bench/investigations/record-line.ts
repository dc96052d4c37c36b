/**
 * What one pair line costs to serialize and encode: `pairLine` against one `JSON.stringify` of the
 * same record in the same line layout, on records like the benchmark's (shadow off and shadow on),
 * in alternating repetitions. In-process, one core; no sockets.
 *
 *   node --import tsx bench/investigations/record-line.ts [--records N] [--repeats N]
 */
import { checked, count, flags, runMain } from '../lib/args.js';
import { median } from '../lib/stats.js';
import { pairLine } from '../../src/records/pair-line.js';
import { skipped, type PairRecord } from '../../src/records/types.js';

const USAGE = `Usage: node --import tsx bench/investigations/record-line.ts [options]

Times serializing and UTF-8 encoding of pair records: pairLine against JSON.stringify in the same
layout, alternating, and prints the median ns per record of each.

  --records N   records per timed pass (default 300000)
  --repeats N   alternating passes of each (default 5)
  -h, --help
`;
const values = flags(USAGE, { records: { type: 'string' }, repeats: { type: 'string' } });
const [RECORDS, REPEATS] = checked(() => [count('--records', values.records, 300_000), count('--repeats', values.repeats, 5)] as const);

/** 1 000 distinct records: champion-served with the challenger skipped (shadow off) or called. */
function records(shadow: boolean): PairRecord[] {
  return Array.from({ length: 1000 }, (_, i) => ({
    requestId: `sat-${i}`,
    route: 'POST /predict',
    config: '3fa1c09b2e7d',
    unit: (i * 2654435761).toString(16).padStart(32, '0').slice(0, 32),
    assigned: 'key',
    bucket: Math.random(),
    group: 'champion',
    served: 'champion',
    fallback: false,
    champion: { version: 'champion-v1', status: 200, latencyMs: Math.round(Math.random() * 500) / 100, score: 0.81, decision: true, error: null },
    challenger: shadow
      ? { version: 'challenger-v2', status: 200, latencyMs: Math.round(Math.random() * 500) / 100, score: 0.77, decision: true, error: null }
      : skipped('challenger-v2', 'traffic.shadow is off'),
    agree: shadow ? true : null,
    fields: {},
  }));
}

/** One JSON.stringify of the record in the same line layout (what pairLine replaced). */
function stringifyLine(r: PairRecord, time: number): string {
  return '{"level":30,"time":' + time + ',"msg":"pair",' + JSON.stringify(r).slice(1) + '\n';
}

function pass(recs: PairRecord[], line: (r: PairRecord, time: number) => string): number {
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < RECORDS; i++) bytes += Buffer.from(line(recs[i % recs.length]!, Date.now())).length;
  const ns = Number(process.hrtime.bigint() - t0) / RECORDS;
  if (bytes === 0) throw new Error('nothing written');
  return ns;
}

async function main(): Promise<void> {
  for (const shadow of [false, true]) {
    const recs = records(shadow);
    const a: number[] = [];
    const b: number[] = [];
    for (let k = 0; k < REPEATS; k++) {
      const first = k % 2 === 0;
      if (first) a.push(pass(recs, stringifyLine));
      b.push(pass(recs, pairLine));
      if (!first) a.push(pass(recs, stringifyLine));
    }
    const bytes = Buffer.byteLength(pairLine(recs[0]!, Date.now()));
    process.stdout.write(`shadow ${shadow ? 'on ' : 'off'} (${bytes} B): JSON.stringify ${median(a).toFixed(0)} ns, pairLine ${median(b).toFixed(0)} ns per record (×${(median(a) / median(b)).toFixed(2)}; passes ${a.map((x) => x.toFixed(0)).join(' ')} / ${b.map((x) => x.toFixed(0)).join(' ')})\n`);
  }
}

runMain(main);
