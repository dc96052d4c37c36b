/** The series behind the HTML charts, aggregated in DuckDB so they stay small at any log size. */
import { timelineEvents } from './sections/timeline.js';
import { count, num, type Queries } from './sql.js';
import { withLabelledCount } from './tables.js';
import type { ChartData, GroupName, Report } from './types.js';

const BINS = 40;
const TIME_BUCKETS = 48;
const PR_STEPS = 100;

/** Equal-width histogram of `values` (a SELECT of model, v), as shares of each model's values. */
async function histogram(db: Queries, values: string, lo: number, hi: number): Promise<ChartData['scores']> {
  const width = hi > lo ? (hi - lo) / BINS : 1;
  const r = await db.rows(`SELECT model, least(greatest(floor((v - $1) / $2), 0), ${BINS - 1})::INTEGER AS bin,
      count(*) AS n FROM (${values}) GROUP BY ALL`, [lo, width]);
  const totals = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const x of r) {
    totals.set(String(x.model), (totals.get(String(x.model)) ?? 0) + count(x.n));
    counts.set(JSON.stringify([x.model, count(x.bin)]), count(x.n));
  }
  // Every bin of every model, empty ones included: a step chart must come back down to 0.
  const out: ChartData['scores'] = [];
  for (const model of ['champion', 'challenger'] as const) {
    const total = totals.get(model);
    if (!total) continue;
    for (let bin = 0; bin < BINS; bin++) {
      const n = counts.get(JSON.stringify([model, bin])) ?? 0;
      out.push({ model, x0: lo + bin * width, x1: lo + (bin + 1) * width, share: n / total });
    }
  }
  return out;
}

export async function chartData(db: Queries, report: Report): Promise<ChartData> {
  const scoreValues = `SELECT 'champion' AS model, c_score AS v FROM rec WHERE c_score IS NOT NULL
    UNION ALL SELECT 'challenger', h_score FROM rec WHERE h_score IS NOT NULL`;
  const range = (await db.rows(`SELECT min(v) AS lo, max(v) AS hi FROM (${scoreValues})`))[0] ?? {};
  const lo = num(range.lo);
  const hi = num(range.hi);
  const scores = lo === null || hi === null ? [] : await histogram(db, scoreValues, lo, hi);

  // Latency up to 1.25 × the larger p99: the tail beyond would squash the body of the chart.
  const p99 = Math.max(report.models.champion.latencyMs.p99 ?? 0, report.models.challenger.latencyMs.p99 ?? 0);
  const latency = p99 > 0
    ? await histogram(db, `SELECT 'champion' AS model, c_lat AS v FROM rec WHERE c_called AND c_lat IS NOT NULL
        UNION ALL SELECT 'challenger', h_lat FROM rec WHERE h_called AND h_lat IS NOT NULL`, 0, p99 * 1.25)
    : [];

  const traffic: ChartData['traffic'] = [];
  const { from, to } = report.window;
  if (from !== null && to !== null) {
    const width = Math.max(1, Math.ceil((to - from + 1) / TIME_BUCKETS));
    const t = await db.rows(`SELECT floor((time - $1) / $2)::BIGINT AS b, grp, count(*) AS n FROM rec
      WHERE call AND time IS NOT NULL AND grp IN ('control', 'champion', 'challenger') GROUP BY ALL ORDER BY b, grp`, [from, width]);
    for (const x of t) traffic.push({ t: from + count(x.b) * width, group: x.grp as GroupName, n: count(x.n) });
  }

  const [curves, operating, marked, coverage] = await Promise.all([rankCurves(db), operatingPoints(db), timelineEvents(db, from, to), coverageByDay(db)]);
  return { scores, latency, traffic, ...curves, operating, events: marked.events, eventsOmitted: marked.omitted, coverage };
}

/** Records and labelled records per UTC day: where labels have not arrived yet. */
async function coverageByDay(db: Queries): Promise<ChartData['coverage']> {
  const day = 'floor(time / 86400000) * 86400000';
  const r = await db.rows(withLabelledCount(`SELECT ${day} AS day, count(*) AS records FROM rec WHERE time IS NOT NULL GROUP BY ALL`, 'day', day));
  return r.map((x) => ({ day: num(x.day)!, records: count(x.records), labelled: count(x.labelled) }));
}

/**
 * Precision–recall and ROC at PR_STEPS thresholds evenly spread over each model's labelled scores.
 * ROC starts at (0, 0): above the highest score nothing is predicted positive.
 */
async function rankCurves(db: Queries): Promise<Pick<ChartData, 'pr' | 'roc'>> {
  const r = await db.rows(`WITH s AS (
      SELECT 'champion' AS model, c_score AS v, label FROM labelled WHERE c_score IS NOT NULL
      UNION ALL SELECT 'challenger', h_score, label FROM labelled WHERE h_score IS NOT NULL),
    b AS (SELECT model, min(v) AS lo, max(v) AS hi FROM s GROUP BY model)
    SELECT s.model, b.lo, b.hi,
      CASE WHEN b.hi > b.lo THEN least(floor((v - b.lo) / (b.hi - b.lo) * ${PR_STEPS}), ${PR_STEPS - 1}) ELSE 0 END::INTEGER AS bin,
      count(*) AS n, sum(label) AS p
    FROM s JOIN b USING (model) GROUP BY ALL ORDER BY s.model, bin DESC`);
  const pr: ChartData['pr'] = [];
  const roc: ChartData['roc'] = [];
  for (const model of ['champion', 'challenger'] as const) {
    const bins = r.filter((x) => x.model === model);
    const positives = bins.reduce((s, x) => s + count(x.p), 0);
    const negatives = bins.reduce((s, x) => s + count(x.n), 0) - positives;
    if (bins.length === 0 || positives === 0) continue;
    const lo = num(bins[0]!.lo) ?? 0;
    const hi = num(bins[0]!.hi) ?? 0;
    if (negatives > 0) roc.push({ model, threshold: hi, fpr: 0, tpr: 0 });
    let tp = 0;
    let predicted = 0;
    // Bins come highest first: lowering the threshold one bin at a time adds that bin's records.
    for (const x of bins) {
      tp += count(x.p);
      predicted += count(x.n);
      const threshold = lo + (count(x.bin) * (hi - lo)) / PR_STEPS;
      pr.push({ model, threshold, recall: tp / positives, precision: tp / predicted });
      if (negatives > 0) roc.push({ model, threshold, fpr: (predicted - tp) / negatives, tpr: tp / positives });
    }
  }
  return { pr, roc };
}

/** Each model's decisions over its labelled scored records (as `labels` counts them) as one point. */
async function operatingPoints(db: Queries): Promise<ChartData['operating']> {
  const cols = (p: 'c' | 'h') => ['tp', 'fp', 'fn', 'tn'].map((cell) => {
    const dec = cell === 'tp' || cell === 'fp' ? `${p}_dec` : `NOT ${p}_dec`;
    return `count(*) FILTER (WHERE ${p}_score IS NOT NULL AND ${dec} AND label = ${cell === 'tp' || cell === 'fn' ? 1 : 0}) AS ${p}_${cell}`;
  }).join(', ');
  const r = await db.one(`SELECT ${cols('c')}, ${cols('h')} FROM labelled`);
  const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
  const out: ChartData['operating'] = [];
  for (const [model, p] of [['champion', 'c'], ['challenger', 'h']] as const) {
    const [tp, fp, fn, tn] = ['tp', 'fp', 'fn', 'tn'].map((cell) => count(r[`${p}_${cell}`])) as [number, number, number, number];
    if (tp + fp + fn + tn === 0) continue;
    out.push({ model, recall: ratio(tp, tp + fn), precision: ratio(tp, tp + fp), fpr: ratio(fp, fp + tn) });
  }
  return out;
}
