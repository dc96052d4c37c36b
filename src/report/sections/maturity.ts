/**
 * Label maturity and coverage (docs/report.md, "maturity"): which records count for the label
 * figures, what share of them has a label, and labels per UTC day over the whole window.
 */
import { count, num, type Queries } from '../sql.js';

const DAY_MS = 86_400_000;

export interface Maturity {
  matureBefore: number | null;
  eligible: number;
  byDay: { day: string; records: number; labelled: number }[];
}

/** `matureMs` undefined: every record counts. `to` is the window's last record time. */
export async function maturityQuery(db: Queries, matureMs: number | undefined, to: number | null): Promise<Maturity> {
  const matureBefore = matureMs === undefined || to === null ? null : to - matureMs;
  const [eligible, days] = await Promise.all([
    // Observations, as `labelled` counts them: a batch's instances each (docs/report.md, "Batches").
    matureMs === undefined
      ? db.one(`SELECT count(*) AS n FROM rec`).then((r) => count(r.n))
      : matureBefore === null
        ? Promise.resolve(0)
        : db.one(`SELECT count(*) AS n FROM rec WHERE time < $1`, [matureBefore]).then((r) => count(r.n)),
    // Days with records only, ascending; records without a time have no day. Without --mature
    // `labelled` holds every labelled record, so the label join need not run again.
    matureMs === undefined
      ? db.rows(`SELECT d, records, coalesce(labelled, 0) AS labelled FROM
          (SELECT floor(time / ${DAY_MS})::BIGINT AS d, count(*) AS records FROM rec WHERE time IS NOT NULL GROUP BY d)
          LEFT JOIN (SELECT floor(time / ${DAY_MS})::BIGINT AS d, count(*) AS labelled FROM labelled WHERE time IS NOT NULL GROUP BY d)
          USING (d) ORDER BY d`)
      : db.rows(`SELECT floor(time / ${DAY_MS})::BIGINT AS d, count(*) AS records, count(label) AS labelled
          FROM rec_label WHERE time IS NOT NULL GROUP BY d ORDER BY d`),
  ]);
  return {
    matureBefore,
    eligible,
    byDay: days.map((r) => ({
      day: new Date((num(r.d) ?? 0) * DAY_MS).toISOString().slice(0, 10),
      records: count(r.records),
      labelled: count(r.labelled),
    })),
  };
}
