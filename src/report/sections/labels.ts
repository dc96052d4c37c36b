/** `labels`, `impact` and the label part of `segments` (docs/report.md, "labels", "impact", "segments"). */
import { aucFromRankSum } from '../../stats/auc.js';
import { metricsFromConfusion, valueMetrics, type Confusion, type ModelMetrics } from '../../stats/classification.js';
import { clusteredRatio, compareRatios } from '../../stats/clustered.js';
import { mcnemar } from '../../stats/tests.js';
import { count, num, type Queries, type Row } from '../sql.js';
import { GROUPS, ROLES, type AtThreshold, type GroupImpact, type Impact, type Labels, type Role } from '../types.js';
import type { GroupMoments } from './clusters.js';
import type { Matched } from './matched.js';
import type { Maturity } from './maturity.js';
import { DECIDED, decidedOf, total, type Cell, type Decided } from './scan.js';

/** Labelled records counted per combination of group, decisions, label (and segment). */
export interface LabelCell extends Decided {
  grp: string | null;
  seg: string | null;
  c_cal: boolean;
  h_cal: boolean;
  label: number;
  n: number;
  /** Σ value (docs/report.md, "value"); 0 without `--value`. */
  v: number;
}

export interface LabelData {
  cells: LabelCell[];
  /** Whether records carry a value (`--value`). */
  valued: boolean;
  /** AUC per scope ('all', 'control', 'seg:<value>') and role. */
  auc: Map<string, number | null>;
}

const key = (scope: string, role: Role) => JSON.stringify([scope, role]);

/**
 * Two queries over the labelled records: the cells every count comes from, and the per-score
 * counts AUC needs (ranks averaged over ties through a running sum; see stats/auc.ts).
 */
export async function labelData(db: Queries, withSegments: boolean, valued = false): Promise<LabelData> {
  const seg = withSegments ? 'seg' : 'NULL AS seg';
  const scores = (scope: string, where: string) => ROLES.map((role) => {
    const p = role === 'champion' ? 'c' : 'h';
    return `SELECT ${scope} AS scope, '${role}' AS role, ${p}_score AS score, label FROM labelled WHERE ${p}_score IS NOT NULL AND (${where})`;
  });
  const scoped = [
    ...scores(`'all'`, 'true'),
    ...scores(`'control'`, `grp = 'control'`),
    ...(withSegments ? scores(`'seg:' || seg`, 'true') : []),
  ].join('\nUNION ALL ');
  const [cells, ranks] = await Promise.all([
    db.rows(`SELECT grp, ${seg}, ${DECIDED},
        c_norm IS NOT NULL AS c_cal, h_norm IS NOT NULL AS h_cal, label, count(*) AS n, sum(val) AS v
      FROM labelled GROUP BY ALL`),
    db.rows(`SELECT scope, role, sum(p * r) AS rank_sum, sum(p) AS pos, sum(c) - sum(p) AS neg FROM (
        SELECT scope, role, c, p, coalesce(sum(c) OVER (PARTITION BY scope, role ORDER BY score
          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) + (c + 1) / 2.0 AS r
        FROM (SELECT scope, role, score, count(*) AS c, sum(label) AS p FROM (${scoped}) GROUP BY ALL))
      GROUP BY scope, role`),
  ]);
  const auc = new Map<string, number | null>();
  for (const r of ranks) auc.set(key(String(r.scope), r.role as Role), aucFromRankSum(num(r.rank_sum) ?? 0, count(r.pos), count(r.neg)));
  return {
    cells: cells.map((r: Row) => ({
      grp: (r.grp as string | null) ?? null,
      seg: (r.seg as string | null) ?? null,
      ...decidedOf(r),
      c_cal: r.c_cal === true,
      h_cal: r.h_cal === true,
      label: count(r.label),
      n: count(r.n),
      v: num(r.v) ?? 0,
    })),
    valued,
    auc,
  };
}

const sum = (cells: readonly LabelCell[], where: (c: LabelCell) => boolean) => cells.reduce((s, c) => s + (where(c) ? c.n : 0), 0);
const P = { champion: 'c', challenger: 'h' } as const;

/** M (docs/report.md, "labels") for one role over the labelled cells matching `where`. */
export function metricsOf(data: LabelData, scope: string, role: Role, where: (c: LabelCell) => boolean): ModelMetrics {
  const p = P[role];
  const mine = data.cells.filter((c) => where(c) && c[`${p}_has`]);
  const dec = (c: LabelCell) => c[`${p}_dec`];
  const conf: Confusion = {
    n: sum(mine, () => true),
    positives: sum(mine, (c) => c.label === 1),
    tp: sum(mine, (c) => dec(c) === true && c.label === 1),
    fp: sum(mine, (c) => dec(c) === true && c.label === 0),
    fn: sum(mine, (c) => dec(c) === false && c.label === 1),
    tn: sum(mine, (c) => dec(c) === false && c.label === 0),
  };
  const m = metricsFromConfusion(conf, data.auc.get(key(scope, role)) ?? null);
  if (data.valued) {
    const val = (where: (c: LabelCell) => boolean) => mine.reduce((s, c) => s + (where(c) ? c.v : 0), 0);
    m.value = valueMetrics({
      tp: val((c) => dec(c) === true && c.label === 1),
      fp: val((c) => dec(c) === true && c.label === 0),
      fn: val((c) => dec(c) === false && c.label === 1),
      tn: val((c) => dec(c) === false && c.label === 0),
    });
  }
  return m;
}

/** The label figures computed by their own queries (sections/clusters, sequential, auc-test, matched, maturity). */
export interface LabelExtras {
  clustered: { pValue: number | null };
  sequentialPValue: number | null;
  aucTest: Labels['aucTest'];
  matched: Matched;
  maturity: Maturity;
}

export function labelsSection(data: LabelData, outcomes: { accepted: number; rejected: number }, more: LabelExtras): Labels {
  const all = () => true;
  const control = (c: LabelCell) => c.grp === 'control';
  // Paired: both decisions known; b = only the champion right, c = only the challenger.
  const paired = data.cells.filter((c) => c.c_dec !== null && c.h_dec !== null);
  const right = (d: boolean | null, y: number) => d === (y === 1);
  const b = sum(paired, (c) => right(c.c_dec, c.label) && !right(c.h_dec, c.label));
  const c = sum(paired, (x) => right(x.h_dec, x.label) && !right(x.c_dec, x.label));
  const n = sum(data.cells, all);
  const { championOnlyCorrect: _b, challengerOnlyCorrect: _c, ...matched } = more.matched;
  const labels: Labels = {
    n,
    eligible: more.maturity.eligible,
    coverage: more.maturity.eligible > 0 ? n / more.maturity.eligible : null,
    matureBefore: more.maturity.matureBefore,
    champion: metricsOf(data, 'all', 'champion', all),
    challenger: metricsOf(data, 'all', 'challenger', all),
    control: { champion: metricsOf(data, 'control', 'champion', control), challenger: metricsOf(data, 'control', 'challenger', control) },
    paired: {
      n: sum(paired, all),
      championOnlyCorrect: b,
      challengerOnlyCorrect: c,
      pValue: mcnemar(b, c).pValue,
      clusteredPValue: more.clustered.pValue,
      sequentialPValue: more.sequentialPValue,
    },
    aucTest: more.aucTest,
    matched,
    byDay: more.maturity.byDay,
    outcomes,
  };
  if (data.cells.some((x) => x.c_cal || x.h_cal)) labels.atThreshold = atThreshold(data);
  return labels;
}

/** Each model at its (calibrated) decision, over labelled records that carry its normalized score. */
function atThreshold(data: LabelData): Record<Role, AtThreshold> {
  const out = {} as Record<Role, AtThreshold>;
  for (const role of ROLES) {
    const p = P[role];
    const mine = data.cells.filter((c) => c[`${p}_cal`]);
    const dec = (c: LabelCell) => c[`${p}_dec`];
    const tp = sum(mine, (c) => dec(c) === true && c.label === 1);
    const fp = sum(mine, (c) => dec(c) === true && c.label === 0);
    const positives = sum(mine, (c) => c.label === 1);
    const decN = sum(mine, (c) => dec(c) !== null);
    out[role] = {
      n: sum(mine, () => true),
      positives,
      decisionRate: decN > 0 ? sum(mine, (c) => dec(c) === true) / decN : null,
      precision: tp + fp > 0 ? tp / (tp + fp) : null,
      recall: positives > 0 ? tp / positives : null,
    };
  }
  return out;
}

/**
 * `impact`: per group outcome rates with cluster delta-method intervals; the challenger group
 * against the champion group; with `--value`, the value lost per request the same way.
 */
export function impactSection(cells: readonly Cell[], data: LabelData, moments: Record<string, GroupMoments>): Impact {
  const impact = {} as Impact;
  for (const g of GROUPS) {
    const mo = moments[g]!;
    // The served model's decisions: the challenger's in its group, else the champion's (for
    // control: what would have been applied).
    const served = (c: Cell) => (g === 'challenger' ? c.h_dec : c.c_dec);
    const decN = total(cells, (c) => c.grp === g && served(c) !== null);
    const rate = clusteredRatio(mo.label);
    const gi: GroupImpact = {
      n: total(cells, (c) => c.grp === g),
      labeled: mo.label.sumN,
      positiveRate: rate.ratio,
      ci: rate.ci,
      decisionRate: decN > 0 ? total(cells, (c) => c.grp === g && served(c) === true) / decN : null,
    };
    if (data.valued) gi.value = { total: mo.valueTotal, positive: mo.value.sumS, perRecord: clusteredRatio(mo.value).ratio };
    impact[g] = gi;
  }
  impact.challengerVsChampion = compareRatios(clusteredRatio(moments.challenger!.label), clusteredRatio(moments.champion!.label));
  if (data.valued) impact.challengerVsChampion.value = compareRatios(clusteredRatio(moments.challenger!.value), clusteredRatio(moments.champion!.value));
  return impact;
}
