/** `labels`, `impact` and the label part of `segments` (docs/report.md, "labels", "impact", "segments"). */
import { aucFromRankSum } from '../../stats/auc.js';
import { metricsFromConfusion, type Confusion, type ModelMetrics } from '../../stats/classification.js';
import { compareProportions, wilson } from '../../stats/proportions.js';
import { mcnemar } from '../../stats/tests.js';
import { count, num, type Queries, type Row } from '../sql.js';
import { GROUPS, ROLES, type AtThreshold, type GroupImpact, type Impact, type Labels, type Role } from '../types.js';
import { DECIDED, decidedOf, total, type Cell, type Decided } from './scan.js';

/** Labelled records counted per combination of group, decisions, label (and segment). */
export interface LabelCell extends Decided {
  grp: string | null;
  seg: string | null;
  c_cal: boolean;
  h_cal: boolean;
  label: number;
  n: number;
}

export interface LabelData {
  cells: LabelCell[];
  /** AUC per scope ('all', 'control', 'seg:<value>') and role. */
  auc: Map<string, number | null>;
}

const key = (scope: string, role: Role) => JSON.stringify([scope, role]);

/**
 * Two queries over the labelled records: the cells every count comes from, and the per-score
 * counts AUC needs (ranks averaged over ties through a running sum; see stats/auc.ts).
 */
export async function labelData(db: Queries, withSegments: boolean): Promise<LabelData> {
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
        c_norm IS NOT NULL AS c_cal, h_norm IS NOT NULL AS h_cal, label, count(*) AS n
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
    })),
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
  return metricsFromConfusion(conf, data.auc.get(key(scope, role)) ?? null);
}

export function labelsSection(data: LabelData, outcomes: { accepted: number; rejected: number }): Labels {
  const all = () => true;
  const control = (c: LabelCell) => c.grp === 'control';
  // Paired: both decisions known; b = only the champion right, c = only the challenger.
  const paired = data.cells.filter((c) => c.c_dec !== null && c.h_dec !== null);
  const right = (d: boolean | null, y: number) => d === (y === 1);
  const b = sum(paired, (c) => right(c.c_dec, c.label) && !right(c.h_dec, c.label));
  const c = sum(paired, (x) => right(x.h_dec, x.label) && !right(x.c_dec, x.label));
  const labels: Labels = {
    n: sum(data.cells, all),
    champion: metricsOf(data, 'all', 'champion', all),
    challenger: metricsOf(data, 'all', 'challenger', all),
    control: { champion: metricsOf(data, 'control', 'champion', control), challenger: metricsOf(data, 'control', 'challenger', control) },
    paired: { n: sum(paired, all), championOnlyCorrect: b, challengerOnlyCorrect: c, pValue: mcnemar(b, c).pValue },
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

/** `impact`: per group outcome rates; the challenger group against the champion group. */
export function impactSection(cells: readonly Cell[], data: LabelData): Impact {
  const impact = {} as Impact;
  const pos: Record<string, { x: number; n: number }> = {};
  for (const g of GROUPS) {
    const labeled = sum(data.cells, (c) => c.grp === g);
    const positives = sum(data.cells, (c) => c.grp === g && c.label === 1);
    pos[g] = { x: positives, n: labeled };
    // The served model's decisions: the challenger's in its group, else the champion's (for
    // control: what would have been applied).
    const served = (c: Cell) => (g === 'challenger' ? c.h_dec : c.c_dec);
    const decN = total(cells, (c) => c.grp === g && served(c) !== null);
    const gi: GroupImpact = {
      n: total(cells, (c) => c.grp === g),
      labeled,
      positiveRate: labeled > 0 ? positives / labeled : null,
      ci: wilson(positives, labeled),
      decisionRate: decN > 0 ? total(cells, (c) => c.grp === g && served(c) === true) / decN : null,
    };
    impact[g] = gi;
  }
  impact.challengerVsChampion = compareProportions(pos.challenger!.x, pos.challenger!.n, pos.champion!.x, pos.champion!.n);
  return impact;
}
