/**
 * Label maturity and coverage (docs/report.md, "maturity"): which records count for the label
 * figures, what share of them has a label, and labels per UTC day over the whole window.
 */
import { count, num, type Queries } from '../sql.js';
import { withLabelledCount } from '../tables.js';

const DAY_MS = 86_400_000;
const DAY = `floor(time / ${DAY_MS})::BIGINT`;

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
    // Days with records only, ascending; records without a time have no day.
    db.rows(withLabelledCount(`SELECT ${DAY} AS d, count(*) AS records FROM rec WHERE time IS NOT NULL GROUP BY d`, 'd', DAY)),
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
