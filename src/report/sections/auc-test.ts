/**
 * `labels.aucTest` (docs/report.md, "Which model ranks better"): DeLong's paired test over the
 * paired records that carry both scores. Each record's structural component is read off running
 * counts: for a positive, the negatives scored below it (ties ½) over all negatives; for a
 * negative, the positives scored above it (ties ½) over all positives.
 */
import { aucTestFrom, type AucTest } from '../../stats/delong.js';
import { count, num, type Queries } from '../sql.js';
import { PAIRED } from './clusters.js';

/** V10 (positives) or V01 (negatives) of `score` for each record. */
function component(score: string): string {
  const below = (what: string) => `sum(${what}) OVER (ORDER BY ${score} RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`;
  const tied = (what: string) => `sum(${what}) OVER (PARTITION BY ${score})`;
  // With one class there are no components (nullif): DuckDB's var_samp refuses infinities.
  return `CASE WHEN label = 1 THEN (${below('1 - label')} - ${tied('1 - label')} / 2.0) / nullif(nn, 0)
    ELSE (np - ${below('label')} + ${tied('label')} / 2.0) / nullif(np, 0) END`;
}

export async function aucTestQuery(db: Queries): Promise<AucTest> {
  const r = await db.one(`WITH r AS (SELECT c_score, h_score, label FROM labelled
        WHERE ${PAIRED} AND c_score IS NOT NULL AND h_score IS NOT NULL),
      t AS (SELECT sum(label) AS np, count(*) - sum(label) AS nn FROM r),
      v AS (SELECT label, ${component('c_score')} AS vc, ${component('h_score')} AS vh FROM r, t)
    SELECT any_value(np) AS np, any_value(nn) AS nn,
      avg(vc) FILTER (label = 1) AS auc_c, avg(vh) FILTER (label = 1) AS auc_h,
      var_samp(vc) FILTER (label = 1) AS s10cc, var_samp(vh) FILTER (label = 1) AS s10hh, covar_samp(vc, vh) FILTER (label = 1) AS s10ch,
      var_samp(vc) FILTER (label = 0) AS s01cc, var_samp(vh) FILTER (label = 0) AS s01hh, covar_samp(vc, vh) FILTER (label = 0) AS s01ch
    FROM v, t`);
  const np = count(r.np);
  const nn = count(r.nn);
  if (np === 0 || nn === 0) return { diff: null, ci: null, pValue: null };
  const diff = (num(r.auc_h) ?? 0) - (num(r.auc_c) ?? 0);
  const parts = [r.s10cc, r.s10hh, r.s10ch, r.s01cc, r.s01hh, r.s01ch].map(num);
  if (parts.some((p) => p === null)) return aucTestFrom(diff, null);
  const [acc, ahh, ach, bcc, bhh, bch] = parts as number[];
  return aucTestFrom(diff, (acc! + ahh! - 2 * ach!) / np + (bcc! + bhh! - 2 * bch!) / nn);
}
