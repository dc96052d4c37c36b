/**
 * `labels.matched` (docs/report.md, "At the same decline rate"): both models made to decline the
 * share of records the champion declined, each at its own score threshold, then compared.
 */
import { mcnemar } from '../../stats/tests.js';
import { percentiles } from '../percentiles.js';
import { count, num, type Queries } from '../sql.js';
import type { Labels, MatchedModel } from '../types.js';
import { PAIRED } from './clusters.js';

const BOTH = `${PAIRED} AND c_score IS NOT NULL AND h_score IS NOT NULL`;

export type Matched = Labels['matched'] & { championOnlyCorrect: number; challengerOnlyCorrect: number };

const none: MatchedModel = { threshold: null, decisionRate: null, precision: null, recall: null, valueRecall: null };

/**
 * The rate is the share of true champion decisions; each threshold the percentile of its model's
 * scores at 1 − rate (quantile_cont, docs/report.md "Sections"); a matched prediction is score ≥
 * threshold. `b`/`c` as in the paired test, on the matched predictions.
 */
export async function matchedQuery(db: Queries, valued: boolean): Promise<Matched> {
  const head = await db.one(`SELECT count(*) AS n, avg(c_dec::INTEGER) AS rate FROM labelled WHERE ${BOTH}`);
  const rate = num(head.rate);
  if (count(head.n) === 0 || rate === null) {
    return { rate: null, champion: none, challenger: none, pValue: null, championOnlyCorrect: 0, challengerOnlyCorrect: 0 };
  }
  const at = (value: string) => percentiles(db, { from: 'labelled', where: BOTH, value }, [1 - rate]).then((q) => q[0]!);
  const [tc, th] = await Promise.all([at('c_score'), at('h_score')]);
  const r = await db.one(`WITH p AS (SELECT c_score >= $1 AS pc, h_score >= $2 AS ph, label = 1 AS y, val FROM labelled WHERE ${BOTH})
    SELECT count(*) AS n, count(*) FILTER (y) AS pos, sum(val) FILTER (y) AS vpos,
      count(*) FILTER (pc) AS dc, count(*) FILTER (pc AND y) AS tpc, sum(val) FILTER (pc AND y) AS vtpc,
      count(*) FILTER (ph) AS dh, count(*) FILTER (ph AND y) AS tph, sum(val) FILTER (ph AND y) AS vtph,
      count(*) FILTER (pc = y AND ph <> y) AS b, count(*) FILTER (ph = y AND pc <> y) AS c
    FROM p`, [tc!, th!]);
  const n = count(r.n);
  const pos = count(r.pos);
  const vpos = num(r.vpos) ?? 0;
  const model = (t: unknown, d: unknown, tp: unknown, vtp: unknown): MatchedModel => ({
    threshold: num(t),
    decisionRate: count(d) / n,
    precision: count(d) > 0 ? count(tp) / count(d) : null,
    recall: pos > 0 ? count(tp) / pos : null,
    valueRecall: valued && vpos > 0 ? (num(vtp) ?? 0) / vpos : null,
  });
  const b = count(r.b);
  const c = count(r.c);
  return {
    rate,
    champion: model(tc, r.dc, r.tpc, r.vtpc),
    challenger: model(th, r.dh, r.tph, r.vtph),
    pValue: mcnemar(b, c).pValue,
    championOnlyCorrect: b,
    challengerOnlyCorrect: c,
  };
}
