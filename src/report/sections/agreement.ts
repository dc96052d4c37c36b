/** `agreement` and `drift` (SPEC 8, definitions 3 and 4), over records where both models scored. */
import { psiFromCounts } from '../../stats/psi.js';
import { count, num, nums, sqlNumber, type Queries, type Row } from '../sql.js';
import type { Agreement } from '../types.js';
import { BOTH_SCORED, total, type Cell } from './scan.js';

/**
 * Average rank of each distinct value of `col` among the both-scored records: the values below it
 * plus the mean of the ranks its ties span. Computed over distinct values: one small sort.
 */
function avgRanks(col: string): string {
  return `(SELECT ${col}, coalesce(sum(n) OVER (ORDER BY ${col} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
      + (n + 1) / 2.0 AS r FROM (SELECT ${col}, count(*) AS n FROM rec WHERE ${BOTH_SCORED} GROUP BY ${col}))`;
}

const clampCorr = (v: number | null) => (v === null ? null : Math.max(-1, Math.min(1, v)));

/** Spearman's rho over the both-scored records (null when undefined). */
export async function spearmanQuery(db: Queries): Promise<number | null> {
  const r = await db.one(`SELECT corr(rx.r, ry.r) AS rho FROM (SELECT c_score, h_score FROM rec WHERE ${BOTH_SCORED}) b
    JOIN ${avgRanks('c_score')} rx USING (c_score) JOIN ${avgRanks('h_score')} ry USING (h_score)`);
  return num(r.rho);
}

/**
 * Counts from the cells; correlation and PSI edges from the both-scored scan (`b`); Spearman's rho
 * from {@link spearmanQuery}; the PSI bins from their own query.
 */
export async function agreementSection(
  db: Queries,
  cells: readonly Cell[],
  b: Row,
  rho: number | null,
): Promise<{ agreement: Agreement; psi: number | null }> {
  const both = (c: Cell) => c.c_has && c.h_has;
  const decided = (c: Cell) => both(c) && c.c_dec !== null && c.h_dec !== null;
  const n = total(cells, both);
  const nDecided = total(cells, decided);
  // A constant side has no correlation (DuckDB's corr would give NaN).
  const varying = n >= 2 && (num(b.vx) ?? 0) > 0 && (num(b.vy) ?? 0) > 0;
  const psi = n > 0 ? await psiSql(db, 'rec', BOTH_SCORED, 'c_score', 'h_score', nums(b.psi_edges)) : null;
  return {
    agreement: {
      n,
      decisionAgreement: nDecided > 0 ? total(cells, (c) => decided(c) && c.c_dec === c.h_dec) / nDecided : null,
      pearson: varying ? clampCorr(num(b.pearson)) : null,
      spearman: varying ? clampCorr(rho) : null,
      meanAbsDelta: n > 0 ? total(cells, both, (c) => c.abs_delta_sum) / n : null,
    },
    psi,
  };
}

/**
 * PSI(reference = `ref`, actual = `act`) over the rows of `table` matching `where` (definition 4),
 * given the reference's deciles as edges. A value's bin is the number of edges strictly below it,
 * which is where DuckDB's `histogram(x, boundaries)` puts it: under the first boundary >= x
 * (+Infinity closes the last bin). Equal edges share one key, as they share their values: the
 * bins between them stay empty.
 */
export async function psiSql(db: Queries, table: string, where: string, ref: string, act: string, edges: (number | null)[]): Promise<number | null> {
  if (edges.length !== 9 || edges.some((x) => x === null)) return null;
  const bounds = [...(edges as number[]), Infinity];
  // Literals, not parameters: histogram() needs its boundaries when the query is planned.
  // sqlNumber round-trips a double exactly.
  const lit = bounds.map((x) => (x === Infinity ? `'Infinity'::DOUBLE` : sqlNumber(x))).join(', ');
  const r = await db.one(`SELECT histogram(${ref}, [${lit}]) AS r, histogram(${act}, [${lit}]) AS a
    FROM ${table} WHERE (${where})`);
  const bins = (h: unknown) => {
    const out = new Array<number>(10).fill(0);
    for (const { key, value } of (Array.isArray(h) ? h : []) as { key: number; value: unknown }[]) {
      out[bounds.indexOf(key)] = count(value);
    }
    return out;
  };
  return psiFromCounts(bins(r.r), bins(r.a));
}
