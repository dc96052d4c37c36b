/** The report's phase runner: what bench/report/phases.ts relies on to time each phase alone. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze } from '../../src/report/build.js';
import type { PhaseRunner, ReportPhase } from '../../src/report/phases.js';
import { randomLogs, tempDir, writeLogs } from './helpers.js';
import { diff } from './reference.js';

const EVERY_PHASE: ReportPhase[] = [
  'load pairs', 'load events and outcomes', 'label join', 'cells', 'both-scored scan', 'percentiles', 'spearman',
  'label figures', 'paired and clustered figures', 'maturity', 'segments', 'window and traffic', 'agreement and psi', 'timeline', 'charts',
];

test('phases run one at a time give the same report as the default, and each phase runs once', async (t) => {
  const dir = tempDir(t);
  const logs = randomLogs(11, 600, { calibrated: true });
  writeLogs(dir, { 'pairs.jsonl': logs.pairs, 'events.jsonl': logs.events, 'outcomes.jsonl': logs.outcomes });
  const seen: ReportPhase[] = [];
  let running = 0;
  let overlapped = false;
  let previous: Promise<unknown> = Promise.resolve();
  const oneAtATime: PhaseRunner = (phase, run) => {
    const p = previous.then(async () => {
      seen.push(phase);
      if (++running > 1) overlapped = true;
      try {
        return await run();
      } finally {
        running--;
      }
    });
    previous = p.catch(() => undefined);
    return p;
  };
  const opts = { logs: dir, segment: 'country', charts: true };
  const expected = await analyze(opts);
  const actual = await analyze({ ...opts, phase: oneAtATime });
  // Means are folded from cells that DuckDB returns in no fixed order: between two runs they can
  // differ in the last bits, never more.
  assert.equal(diff(actual, expected, 1e-12), null);
  assert.equal(overlapped, false);
  assert.deepEqual([...seen].sort(), [...EVERY_PHASE].sort());
});
