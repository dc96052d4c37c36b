/**
 * `labels.aucTest` (docs/report.md, "Which model ranks better"): DeLong's paired test over the
 * paired records that carry both scores. Each record's structural component is read off running
 * counts per distinct score: for a positive, the negatives scored below it (ties ½) over all
 * negatives; for a negative, the positives scored above it (ties ½) over all positives.
 */
import { aucTestFrom, type AucTest } from '../../stats/delong.js';
import { count, num, type Queries } from '../sql.js';
import { PAIRED } from './clusters.js';

/**
 * Per distinct score of one model: its positives and negatives, the negatives strictly below it and
 * the positives at or below it (one small sort over distinct scores, not over records).
 */
function byScore(score: string): string {
  return `SELECT s, p, q, sum(q) OVER w - q AS q_below, sum(p) OVER w AS p_upto FROM
    (SELECT ${score} AS s, sum(label) AS p, count(*) - sum(label) AS q FROM r GROUP BY ${score})
    WINDOW w AS (ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`;
}

/** A record's structural component for one model: V10 for a positive, V01 for a negative. */
const component = (t: string) => `CASE WHEN label = 1 THEN (${t}.q_below + ${t}.q / 2.0) / nullif(nn, 0)
    ELSE (np - ${t}.p_upto + ${t}.p / 2.0) / nullif(np, 0) END`;

export async function aucTestQuery(db: Queries): Promise<AucTest> {
  // With one class there are no components (nullif): DuckDB's var_samp refuses infinities.
  const r = await db.one(`WITH r AS (SELECT c_score, h_score, label FROM labelled
        WHERE ${PAIRED} AND c_score IS NOT NULL AND h_score IS NOT NULL),
      t AS (SELECT sum(label) AS np, count(*) - sum(label) AS nn FROM r),
      cs AS (${byScore('c_score')}),
      hs AS (${byScore('h_score')}),
      v AS (SELECT label, ${component('cs')} AS vc, ${component('hs')} AS vh
        FROM r JOIN cs ON r.c_score = cs.s JOIN hs ON r.h_score = hs.s, t)
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
