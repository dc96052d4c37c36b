/** `labels.paired.sequentialPValue` (docs/report.md, "Looking every day"), in one window query. */
import { sequentialPFromMaxLog } from '../../stats/sequential.js';
import { count, num, type Queries } from '../sql.js';
import { PAIRED } from './clusters.js';

/**
 * Running b_k, c_k over the paired records in (time, requestId) order, the largest
 * ln BF_k = (b_k + c_k)·ln 2 + ln B(c_k + 1, b_k + 1) among them, and p = min(1, 1 / max BF).
 * Ties on (time, requestId) are ordered by the outcome, so the result never depends on storage.
 * Only the discordant records move (b_k, c_k): at any other record it is the one of the discordant
 * record before it (or (0, 0), where ln BF = 0), so only those are sorted.
 */
export async function sequentialQuery(db: Queries): Promise<number | null> {
  const r = await db.one(`SELECT (SELECT count(*) FROM labelled WHERE ${PAIRED}) AS n, (SELECT
      max(CASE WHEN b + c > 0 THEN (b + c) * ln(2) + lgamma(c + 1) + lgamma(b + 1) - lgamma(b + c + 2) ELSE 0 END)
    FROM (SELECT sum(bi) OVER w AS b, sum(ci) OVER w AS c FROM (
        SELECT time, requestId, (c_dec = (label = 1) AND h_dec <> (label = 1))::INTEGER AS bi,
          (h_dec = (label = 1) AND c_dec <> (label = 1))::INTEGER AS ci
        FROM labelled WHERE ${PAIRED}) WHERE bi + ci > 0
      WINDOW w AS (ORDER BY time ASC NULLS LAST, requestId ASC NULLS LAST, bi, ci
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))) AS max_log_bf`);
  return count(r.n) === 0 ? null : sequentialPFromMaxLog(num(r.max_log_bf) ?? 0);
}
