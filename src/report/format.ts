/** Number formatting and the flags shared by the text and HTML renderings. */
import { MAX_MAGNITUDE } from './schema.js';
import { GROUPS, type ConfigSrm, type Difference, type FlagCode, type Impact, type Labels, type ModelMetrics, type ModelSummary, type Report } from './types.js';
import { MIN_PAIRED } from './verdict.js';

/** Shadow coverage below this is flagged: comparisons then see only part of the traffic. */
export const LOW_SHADOW_COVERAGE = 0.95;
/** Label coverage below this is flagged: most records that count have no label yet. */
export const LOW_LABEL_COVERAGE = 0.5;

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

/**
 * Characters a terminal or a browser acts on, or hides, instead of showing: C0 and C1 controls and
 * DEL (Cc), invisible format characters (Cf: bidi embeddings, overrides and isolates, directional
 * marks, zero-width characters), the line and paragraph separators U+2028/U+2029, lone surrogates.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

const escapeCodePoint = (c: string): string => {
  const cp = c.codePointAt(0)!;
  return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
};

/** Text from the logs with every {@link UNSAFE} character written as a visible escape (`\u202e`). */
export function neutralize(s: string): string {
  return s.replace(UNSAFE, escapeCodePoint);
}

/** Text from the logs made safe for a terminal: unsafe characters escaped, at most `max` code points. */
export function printable(s: string, max = 60): string {
  const t = neutralize(s);
  const points = [...t];
  return points.length > max ? `${points.slice(0, max - 1).join('')}…` : t;
}

/**
 * JSON text whose strings hold none of the characters a terminal acts on: JSON.stringify escapes
 * C0 controls but writes DEL, C1 controls, format characters and U+2028/U+2029 as they are. Each
 * is replaced by its `\uXXXX` escape, which a JSON parser reads back as the same string.
 */
export function jsonText(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(/[\u007f-\u009f\p{Cf}\u2028\u2029]/gu, (c) =>
    Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''));
}

/** `record[key]` when it is the record's own entry, else 0 (a key such as `constructor` is not inherited). */
export function countOf(record: Readonly<Record<string, number>>, key: string): number {
  return Object.hasOwn(record, key) ? record[key]! : 0;
}

export function iso(ms: number | null): string {
  if (ms === null) return dash;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString().replace('.000Z', 'Z');
}

export interface Flag {
  code: FlagCode;
  message: string;
}

/** What a reader must not miss before trusting the comparison. */
export function flagsOf(r: Report): Flag[] {
  const flags: Flag[] = [];
  const { srm } = r.traffic;
  if (srm.flag === true) {
    flags.push({
      code: 'srm',
      message: `sample ratio mismatch on config ${printable(srm.config ?? '')}: groups are not split as configured ` +
        `(${srm.chi2 === null ? 'a record sits in a group configured empty' : `chi2 ${dec(srm.chi2)}`}, p ${pval(srm.pValue)}); ` +
        'group comparisons are unreliable until the cause is found',
    });
  }
  const broken = r.traffic.byConfig.filter((c) => c.flag === true);
  if (broken.length > 0) {
    const names = broken.slice(0, 3).map((c) => `${printable(c.config)} (p ${pval(c.pValue)})`).join(', ');
    flags.push({
      code: 'srm_config',
      message: `sample ratio mismatch in ${broken.length} of ${r.traffic.byConfig.length} config id${r.traffic.byConfig.length === 1 ? '' : 's'}: ` +
        `${names}${broken.length > 3 ? ', …' : ''}; a ramp step or reload did not split traffic as configured`,
    });
  }
  const lc = r.labels.coverage;
  if (lc !== null && lc < LOW_LABEL_COVERAGE) {
    flags.push({
      code: 'low_coverage',
      message: `label coverage ${pct(lc)}: ${int(r.labels.n)} of ${int(r.labels.eligible)} records that count have a label` +
        (r.labels.matureBefore === null ? ' (labels may still be arriving: try --mature)' : ` (records before ${iso(r.labels.matureBefore)})`),
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
  const oor = r.window.outOfRange;
  if (oor > 0) {
    flags.push({
      code: 'out_of_range_values',
      message: `${int(oor)} value${oor === 1 ? '' : 's'} out of range (a score, normalized score or latency not finite or beyond ` +
        `±${MAX_MAGNITUDE.toExponential()}, or a time outside a date's range) read as absent: check the model's score pointer and the records' writer`,
    });
  }
  if (r.labels.paired.n < MIN_PAIRED) {
    flags.push({
      code: 'insufficient_labels',
      message: `insufficient labels: ${int(r.labels.paired.n)} paired labelled records, a verdict needs 100`,
    });
  }
  return flags;
}

/** The test the verdict rested on and its p (verdict.ts, verdictBasis). */
export interface VerdictTest {
  test: string;
  p: number | null;
}

/** One line saying what the verdict rests on. */
export function verdictDetail(r: Report, basis?: VerdictTest): string {
  const p = r.labels.paired;
  if (r.verdict === 'insufficient_data') return `${int(p.n)} paired labelled records; ${MIN_PAIRED} are needed`;
  const b = basis ?? { test: 'McNemar', p: p.pValue };
  return `over ${int(p.n)} paired labelled records: challenger alone right ${int(p.challengerOnlyCorrect)}, ` +
    `champion alone right ${int(p.championOnlyCorrect)} (${b.test} p ${pval(b.p)})`;
}

/**
 * The models table's rows (one column per model), shared by the text and HTML renderers. `name`
 * renders a data string (a version) and `kind` an error kind's row label, each for its format.
 */
export function modelRows(m: readonly ModelSummary[], name: (s: string) => string, kind: (k: string) => string): string[][] {
  const kinds = [...new Set(m.flatMap((x) => Object.keys(x.errors.byKind)))].sort();
  const rows = [
    ['version', ...m.map((x) => (x.version === null ? dash : name(x.version)))],
    ['calls', ...m.map((x) => int(x.calls))],
    ['error rate', ...m.map((x) => pct(x.errors.rate))],
    ...kinds.map((k) => [kind(k), ...m.map((x) => int(countOf(x.errors.byKind, k)))]),
    ...(['p50', 'p95', 'p99', 'mean'] as const).map((p) => [`latency ${p} ms`, ...m.map((x) => dec(x.latencyMs[p]))]),
    ['score mean', ...m.map((x) => dec(x.score.mean))],
    ...(['p10', 'p50', 'p90', 'p95', 'p99'] as const).map((p) => [`score ${p}`, ...m.map((x) => dec(x.score[p]))]),
    ['decision rate', ...m.map((x) => pct(x.decisionRate))],
  ];
  if (m.some((x) => x.normalized)) {
    rows.push(
      ['normalized n', ...m.map((x) => int(x.normalized?.n ?? 0))],
      ['normalized p50', ...m.map((x) => dec(x.normalized?.p50))],
      ['normalized p90', ...m.map((x) => dec(x.normalized?.p90))],
    );
  }
  return rows;
}

/** A money-like amount: thousands separated, two decimals below 1000. */
export function amount(v: number | null | undefined): string {
  if (v === null || v === undefined) return dash;
  return Math.abs(v) >= 1000 ? intFmt.format(v) : v.toFixed(2);
}

/** A signed share (+0.123%). */
export function signedPct(v: number | null | undefined): string {
  return v === null || v === undefined ? dash : `${v >= 0 ? '+' : ''}${pct(v, 3)}`;
}

/** The per-config SRM table (header first); `name` renders a config id for the format. */
export function byConfigRows(rows: readonly ConfigSrm[], name: (s: string) => string): string[][] {
  return [
    ['config', 'from', 'records', 'control', 'champion', 'challenger', 'expected ctl/chl', 'chi2', 'p', ''],
    ...rows.map((c) => [
      name(c.config), iso(c.from).replace('T', ' ').slice(0, 16), int(c.records), int(c.groups.control), int(c.groups.champion), int(c.groups.challenger),
      c.expected ? `${pct(c.expected.control, 0)}/${pct(c.expected.challenger, 0)}` : dash,
      dec(c.chi2), pval(c.pValue), c.flag === true ? 'MISMATCH' : c.flag === false ? 'ok' : 'not tested',
    ]),
  ];
}

/** The matched-decision-rate table (header first). */
export function matchedRows(m: Labels['matched']): string[][] {
  const cols = [m.champion, m.challenger];
  return [
    ['', 'champion', 'challenger'],
    ['threshold', ...cols.map((x) => dec(x.threshold))],
    ['decision rate', ...cols.map((x) => pct(x.decisionRate))],
    ['precision', ...cols.map((x) => dec(x.precision))],
    ['recall', ...cols.map((x) => dec(x.recall))],
    ...(cols.some((x) => x.valueRecall !== null) ? [['value recall', ...cols.map((x) => dec(x.valueRecall))]] : []),
  ];
}

/** Label coverage per day (header first). */
export function byDayRows(days: Labels['byDay']): string[][] {
  return [['day', 'records', 'labelled', 'coverage'],
    ...days.map((d) => [d.day, int(d.records), int(d.labelled), pct(d.records > 0 ? d.labelled / d.records : null, 1)])];
}

/** The impact table (header first), value columns with `--value`. */
export function impactRows(im: Impact): string[][] {
  const valued = GROUPS.some((g) => im[g].value !== undefined);
  const ci = (c: [number, number] | null) => (c ? `${pct(c[0])} – ${pct(c[1])}` : dash);
  return [
    ['group', 'records', 'labelled', 'positive rate', '95% CI', 'decision rate', ...(valued ? ['value labelled', 'value positive', 'per request'] : [])],
    ...GROUPS.map((g) => {
      const x = im[g];
      return [g, int(x.n), int(x.labeled), pct(x.positiveRate), ci(x.ci), pct(x.decisionRate),
        ...(valued ? [amount(x.value?.total), amount(x.value?.positive), amount(x.value?.perRecord)] : [])];
    }),
  ];
}

/** The value difference between groups in one line. */
export function valueDiffLine(d: Difference): string {
  const sign = d.diff === null ? '' : d.diff >= 0 ? '+' : '';
  return `challenger − champion positive value per request ${d.diff === null ? dash : `${sign}${amount(d.diff)}`}` +
    `${d.ci ? ` (95% CI ${amount(d.ci[0])} – ${amount(d.ci[1])})` : ''}, p ${pval(d.pValue)}`;
}

/** The rows of a metrics table (one column per model), shared by the text and HTML renderers. */
export function metricRows(aucLabel: string, cols: ModelMetrics[]): string[][] {
  const valued = cols.some((m) => m.value !== undefined);
  return [
    ['n', ...cols.map((m) => int(m.n))],
    ['positives', ...cols.map((m) => int(m.positives))],
    ['precision', ...cols.map((m) => dec(m.precision))],
    ['recall', ...cols.map((m) => dec(m.recall))],
    ['f1', ...cols.map((m) => dec(m.f1))],
    ['accuracy', ...cols.map((m) => dec(m.accuracy))],
    [aucLabel, ...cols.map((m) => dec(m.auc))],
    ...(valued
      ? [
          ['value caught (tp)', ...cols.map((m) => amount(m.value?.tp))],
          ['value missed (fn)', ...cols.map((m) => amount(m.value?.fn))],
          ['value declined clean (fp)', ...cols.map((m) => amount(m.value?.fp))],
          ['value recall', ...cols.map((m) => dec(m.value?.recall))],
          ['value precision', ...cols.map((m) => dec(m.value?.precision))],
        ]
      : []),
  ];
}
