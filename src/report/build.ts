/**
 * Builds the report (docs/report.md) from a log directory: load into DuckDB, then one module per
 * section, each query run as one named phase (phases.ts).
 */
import { chartData } from './chart-data.js';
import { DEFAULT_MEMORY } from './database.js';
import { openLogs, type LoadOptions } from './load.js';
import { heldValuesFor } from './percentiles.js';
import { runNow } from './phases.js';
import { agreementSection, spearmanQuery } from './sections/agreement.js';
import { aucTestQuery } from './sections/auc-test.js';
import { clusteredPaired, impactMoments } from './sections/clusters.js';
import { impactSection, labelData, labelsSection } from './sections/labels.js';
import { matchedQuery } from './sections/matched.js';
import { maturityQuery } from './sections/maturity.js';
import { sequentialQuery } from './sections/sequential.js';
import { modelQuantiles, modelsSection } from './sections/models.js';
import { bothScoredScan, cellScan } from './sections/scan.js';
import { segmentsSection } from './sections/segments.js';
import { timelineSection } from './sections/timeline.js';
import { windowAndTraffic } from './sections/traffic.js';
import { flagsOf, type VerdictTest } from './format.js';
import type { ChartData, Report, VerdictMetric } from './types.js';
import { verdictBasis, verdictOf, type VerdictOptions } from './verdict.js';

export type ReportOptions = LoadOptions & {
  /** What the verdict decides on (`--verdict`, default accuracy). */
  verdict?: VerdictMetric;
  /** Accuracy verdict on the always-valid sequential p-value (`--sequential`). */
  sequential?: boolean;
  /** Timeline bucket in ms (`--bucket`); default from the window's length (sections/timeline.ts). */
  bucketMs?: number;
};

/** The report and, when `charts` is set, the series the HTML charts draw. */
export async function analyze(opts: ReportOptions & { charts?: boolean }): Promise<{ report: Report; charts: ChartData | null; verdictTest: VerdictTest }> {
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
    const valued = opts.value !== undefined;
    const labelledP = start(store.labelled.then(() => phase('label figures', () => labelData(db, segmented, valued))));
    // The clustered and paired figures, each one query over `labelled`.
    const extrasP = start(store.labelled.then(() => phase('paired and clustered figures', () => Promise.all([
      clusteredPaired(db), sequentialQuery(db), aucTestQuery(db), matchedQuery(db, valued), impactMoments(db),
    ]))));
    const segmentsP = segmented ? start(labelledP.then((d) => phase('segments', () => segmentsSection(db, d)))) : undefined;
    // It counts labels from the label join's table.
    const timelineP = start(Promise.all([cellsP, store.labelled]).then(([cs]) => {
      const ts = cs.flatMap((c) => (c.min_t === null || c.max_t === null ? [] : [c.min_t, c.max_t]));
      const [from, to] = ts.length ? [Math.min(...ts), Math.max(...ts)] : [null, null];
      return phase('timeline', () => timelineSection(db, from, to, opts.bucketMs, heldValuesFor(opts.memory ?? DEFAULT_MEMORY)));
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
    const [[clustered, sequentialPValue, aucTest, matched, moments], maturity] = await Promise.all([
      extrasP,
      store.labelled.then(() => phase('maturity', () => maturityQuery(db, opts.mature, window.to))),
    ]);
    const labels = labelsSection(data, store.outcomes, { clustered, sequentialPValue, aucTest, matched, maturity });
    const how: VerdictOptions = {
      ...(opts.verdict ? { metric: opts.verdict } : {}),
      sequential: opts.sequential === true,
      clustered: clustered.clustered,
      matched,
    };
    const report: Report = {
      window: { ...window, notices: [...store.notices] },
      traffic,
      models,
      agreement,
      drift: { psi },
      labels,
      impact: impactSection(cells, data, moments),
      timeline,
      ...(segments ? { segments } : {}),
      verdict: verdictOf(labels, how),
      flags: [],
    };
    report.flags = flagsOf(report).map((f) => f.code);
    const charts = opts.charts ? await phase('charts', () => chartData(db, report)) : null;
    const { test, p } = verdictBasis(labels, how);
    return { report: finiteOnly(report), charts, verdictTest: { test, p } };
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
