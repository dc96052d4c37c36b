/** The timeline in the text report: each series' range over the buckets and its latest value. */
import { dash, dec, iso, pct } from './format.js';
import { formatBucket } from './sections/timeline.js';
import type { Timeline, TimelineModel } from './types.js';

type Series = [label: string, pick: (m: TimelineModel) => number | null, show: (v: number | null) => string];

const SERIES: Series[] = [
  ['decision rate', (m) => m.decisionRate, (v) => pct(v)],
  ['error rate', (m) => m.errorRate, (v) => pct(v)],
  ['latency p99 (ms)', (m) => m.latencyP99, (v) => dec(v)],
  ['score p90', (m) => m.scoreP90, (v) => dec(v)],
  ['score p95', (m) => m.scoreP95, (v) => dec(v)],
];

/** Lines of the TIMELINE block; `table` aligns columns as the rest of the text report does. */
export function timelineLines(t: Timeline, table: (rows: string[][]) => string[]): string[] {
  const rows = t.rows;
  if (rows.length === 0) return ['TIMELINE  no record with a time'];
  const last = rows[rows.length - 1]!;
  const out = [`TIMELINE  ${rows.length} bucket${rows.length === 1 ? '' : 's'} of ${formatBucket(t.bucketMs)} with records ` +
    `(${iso(rows[0]!.start)} → ${iso(last.start)}); min and max over buckets, and the latest bucket`];
  const cells = (role: 'champion' | 'challenger', [, pick, show]: Series) => {
    const vs = rows.map((r) => pick(r[role])).filter((v): v is number => v !== null);
    return vs.length ? [show(Math.min(...vs)), show(Math.max(...vs)), show(pick(last[role]))] : [dash, dash, show(pick(last[role]))];
  };
  out.push(...table([
    ['', 'champion min', 'max', 'latest', 'challenger min', 'max', 'latest'],
    ...SERIES.map((s) => [s[0], ...cells('champion', s), ...cells('challenger', s)]),
  ]));
  return out;
}
