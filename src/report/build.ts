/**
 * Builds the report (docs/report.md) from a log directory: load into DuckDB, then one module per
 * section, each query run as one named phase (phases.ts).
 */
import { chartData } from './chart-data.js';
import { openLogs, type LoadOptions } from './load.js';
import { runNow } from './phases.js';
import { agreementSection, spearmanQuery } from './sections/agreement.js';
import { impactSection, labelData, labelsSection } from './sections/labels.js';
import { modelQuantiles, modelsSection } from './sections/models.js';
import { bothScoredScan, cellScan } from './sections/scan.js';
import { segmentsSection } from './sections/segments.js';
import { timelineSection } from './sections/timeline.js';
import { windowAndTraffic } from './sections/traffic.js';
import type { ChartData, Report } from './types.js';
import { verdictOf } from './verdict.js';

export type ReportOptions = LoadOptions & {
  /** Timeline bucket in ms (`--bucket`); default from the window's length (sections/timeline.ts). */
  bucketMs?: number;
};

/** The report and, when `charts` is set, the series the HTML charts draw. */
export async function analyze(opts: ReportOptions & { charts?: boolean }): Promise<{ report: Report; charts: ChartData | null }> {
  const store = await openLogs(opts);
  const progress = opts.onProgress ?? (() => {});
  try {
    const { db } = store;
    const phase = opts.phase ?? runNow;
    const segmented = opts.segment !== undefined;
    progress('computing…');
    // Every query is issued as soon as what it needs is known, so the pool keeps every core
    // busy: most need nothing but the records.
    const start = <T>(p: Promise<T>): Promise<T> => {
      p.catch(() => undefined); // awaited below; a failure meanwhile is not "unhandled"
      return p;
    };
    const cellsP = start(phase('cells', () => cellScan(db)));
    const bothP = start(phase('both-scored scan', () => bothScoredScan(db)));
    const quantilesP = start(phase('percentiles', () => modelQuantiles(db, cellsP)));
    const rhoP = start(phase('spearman', () => spearmanQuery(db)));
    const labelledP = start(store.labelled.then(() => phase('label figures', () => labelData(db, segmented))));
    const segmentsP = segmented ? start(labelledP.then((d) => phase('segments', () => segmentsSection(db, d)))) : undefined;
    // After the percentiles: its per-bucket percentiles hold as many values as theirs, and the two
    // at once would double the report's peak memory.
    const timelineP = start(Promise.all([cellsP, quantilesP]).then(([cs]) => {
      const ts = cs.flatMap((c) => (c.min_t === null || c.max_t === null ? [] : [c.min_t, c.max_t]));
      const [from, to] = ts.length ? [Math.min(...ts), Math.max(...ts)] : [null, null];
      return phase('timeline', () => timelineSection(db, from, to, opts.bucketMs));
    }));
    const cells = await cellsP;
    const [{ window, traffic }, { agreement, psi }, quantiles, data, segments, timeline] = await Promise.all([
      phase('window and traffic', () => windowAndTraffic(db, cells, store.malformedLines)),
      Promise.all([bothP, rhoP]).then(([both, rho]) => phase('agreement and psi', () => agreementSection(db, cells, both, rho))),
      quantilesP,
      labelledP,
      segmentsP,
      timelineP,
    ]);
    const models = modelsSection(cells, quantiles);
    const labels = labelsSection(data, store.outcomes);
    const report: Report = {
      window,
      traffic,
      models,
      agreement,
      drift: { psi },
      labels,
      impact: impactSection(cells, data),
      timeline,
      ...(segments ? { segments } : {}),
      verdict: verdictOf(labels.paired),
    };
    const charts = opts.charts ? await phase('charts', () => chartData(db, report)) : null;
    return { report: finiteOnly(report), charts };
  } finally {
    await store.close();
  }
}

/** The report object for the logs described by `opts` (docs/report.md). */
export async function buildReport(opts: ReportOptions): Promise<Report> {
  return (await analyze(opts)).report;
}

/** A last guard for the contract "plain JSON numbers, never NaN/Infinity": any that slipped through become null. */
function finiteOnly<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))) as T;
}
