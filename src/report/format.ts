/** Number formatting and the flags shared by the text and HTML renderings. */
import type { ModelMetrics, Report } from './types.js';

/** Shadow coverage below this is flagged: comparisons then see only part of the traffic. */
export const LOW_SHADOW_COVERAGE = 0.95;

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export const dash = '–';

export function int(v: number | null | undefined): string {
  return v === null || v === undefined ? dash : intFmt.format(v);
}

export function pct(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined ? dash : `${(v * 100).toFixed(digits)}%`;
}

/** A measurement with four significant digits (trailing zeros kept, so columns line up). */
export function dec(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined) return dash;
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-4) return v.toExponential(digits - 1);
  if (a >= 10 ** digits) return intFmt.format(v);
  return v.toPrecision(digits);
}

/** A p-value: two significant digits; an underflowed 0 is shown as below the smallest double step. */
export function pval(v: number | null | undefined): string {
  if (v === null || v === undefined) return dash;
  if (v === 0) return '< 1e-300';
  if (v < 1e-4) return v.toExponential(1);
  return Number(v.toPrecision(2)).toString();
}

/** Text from the logs made safe for a terminal: control characters escaped, length bounded. */
export function printable(s: string, max = 60): string {
  const t = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export function iso(ms: number | null): string {
  if (ms === null) return dash;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString().replace('.000Z', 'Z');
}

export interface Flag {
  code: 'srm' | 'challenger_error_rate' | 'low_shadow_coverage' | 'insufficient_labels';
  message: string;
}

/** What a reader must not miss before trusting the comparison. */
export function flagsOf(r: Report): Flag[] {
  const flags: Flag[] = [];
  const { srm } = r.traffic;
  if (srm.flag === true) {
    flags.push({
      code: 'srm',
      message: `sample ratio mismatch on config ${srm.config}: groups are not split as configured ` +
        `(${srm.chi2 === null ? 'a record sits in a group configured empty' : `chi2 ${dec(srm.chi2)}`}, p ${pval(srm.pValue)}); ` +
        'group comparisons are unreliable until the cause is found',
    });
  }
  const ce = r.models.champion.errors.rate;
  const he = r.models.challenger.errors.rate;
  if (ce !== null && he !== null && he > ce) {
    flags.push({ code: 'challenger_error_rate', message: `challenger error rate ${pct(he)} is higher than the champion's ${pct(ce)}` });
  }
  const cov = r.traffic.shadowCoverage;
  if (cov !== null && cov < LOW_SHADOW_COVERAGE) {
    flags.push({
      code: 'low_shadow_coverage',
      message: `shadow coverage ${pct(cov)} (below ${pct(LOW_SHADOW_COVERAGE, 0)}): agreement, drift and paired figures see only the records where both models were called`,
    });
  }
  if (r.labels.paired.n < 100) {
    flags.push({
      code: 'insufficient_labels',
      message: `insufficient labels: ${int(r.labels.paired.n)} paired labelled records, a verdict needs 100`,
    });
  }
  return flags;
}

/** One line saying what the verdict rests on. */
export function verdictDetail(r: Report): string {
  const p = r.labels.paired;
  if (r.verdict === 'insufficient_data') return `${int(p.n)} paired labelled records; 100 are needed`;
  return `over ${int(p.n)} paired labelled records: challenger alone right ${int(p.challengerOnlyCorrect)}, ` +
    `champion alone right ${int(p.championOnlyCorrect)} (McNemar p ${pval(p.pValue)})`;
}

/** The rows of a metrics table (one column per model), shared by the text and HTML renderers. */
export function metricRows(aucLabel: string, cols: ModelMetrics[]): string[][] {
  return [
    ['n', ...cols.map((m) => int(m.n))],
    ['positives', ...cols.map((m) => int(m.positives))],
    ['precision', ...cols.map((m) => dec(m.precision))],
    ['recall', ...cols.map((m) => dec(m.recall))],
    ['f1', ...cols.map((m) => dec(m.f1))],
    ['accuracy', ...cols.map((m) => dec(m.accuracy))],
    [aucLabel, ...cols.map((m) => dec(m.auc))],
  ];
}
