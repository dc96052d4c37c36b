/**
 * The aggregates most sections need, gathered in as few scans of the records as possible: on
 * millions of records each scan, and each filtered aggregate in it, costs more than all the
 * arithmetic on top. So the records are counted once per combination of a few low-cardinality
 * columns, and every count, rate and mean is then folded from those cells in TypeScript.
 */
import { PSI_EDGE_PS } from '../../stats/psi.js';
import { percentiles } from '../percentiles.js';
import { count, num, type Queries, type Row } from '../sql.js';

export const BOTH_SCORED = 'c_score IS NOT NULL AND h_score IS NOT NULL';

/** One cell of the records' breakdown by group, config, version and outcome flags. */
export interface Cell extends Decided {
  /** The row that stands for its record (every row but a batch's later instances; tables.ts `rec`). */
  call: boolean;
  grp: string | null;
  config: string | null;
  fallback: boolean;
  c_version: string | null;
  h_version: string | null;
  c_called: boolean;
  h_called: boolean;
  c_err: boolean;
  h_err: boolean;
  c_kind: string | null;
  h_kind: string | null;
  n: number;
  min_t: number | null;
  max_t: number | null;
  c_lat_sum: number;
  c_lat_n: number;
  h_lat_sum: number;
  h_lat_n: number;
  c_score_sum: number;
  h_score_sum: number;
  c_norm_sum: number;
  c_norm_n: number;
  h_norm_sum: number;
  h_norm_n: number;
  abs_delta_sum: number;
  /** Numbers read as absent because out of range (schema.ts, MAX_MAGNITUDE). */
  oor: number;
}

const KEYS = ['call', 'grp', 'config', 'fallback', 'c_version', 'h_version', 'c_called', 'h_called', 'c_err', 'h_err',
  'c_kind', 'h_kind'] as const;

/** Whether each model has a score and what it decided: columns both cell scans group by. */
export const DECIDED = 'c_score IS NOT NULL AS c_has, h_score IS NOT NULL AS h_has, c_dec, h_dec';

export interface Decided {
  c_has: boolean;
  h_has: boolean;
  c_dec: boolean | null;
  h_dec: boolean | null;
}

export function decidedOf(r: Row): Decided {
  return { c_has: r.c_has === true, h_has: r.h_has === true, c_dec: (r.c_dec as boolean | null) ?? null, h_dec: (r.h_dec as boolean | null) ?? null };
}

/** The records counted per cell, with the sums the means need. */
export async function cellScan(db: Queries): Promise<Cell[]> {
  const rows = await db.rows(`SELECT ${KEYS.join(', ')}, ${DECIDED},
      count(*) AS n, min(time) AS min_t, max(time) AS max_t,
      sum(c_lat) AS c_lat_sum, count(c_lat) AS c_lat_n, sum(h_lat) AS h_lat_sum, count(h_lat) AS h_lat_n,
      sum(c_score) AS c_score_sum, sum(h_score) AS h_score_sum,
      sum(c_norm) AS c_norm_sum, count(c_norm) AS c_norm_n, sum(h_norm) AS h_norm_sum, count(h_norm) AS h_norm_n,
      sum(abs(h_score - c_score)) AS abs_delta_sum, sum(oor) AS oor
    FROM rec GROUP BY ALL`);
  return rows.map((r: Row) => ({
    call: r.call === true,
    grp: (r.grp as string | null) ?? null,
    config: (r.config as string | null) ?? null,
    fallback: r.fallback === true,
    c_version: (r.c_version as string | null) ?? null,
    h_version: (r.h_version as string | null) ?? null,
    c_called: r.c_called === true,
    h_called: r.h_called === true,
    c_err: r.c_err === true,
    h_err: r.h_err === true,
    c_kind: (r.c_kind as string | null) ?? null,
    h_kind: (r.h_kind as string | null) ?? null,
    ...decidedOf(r),
    n: count(r.n),
    min_t: num(r.min_t),
    max_t: num(r.max_t),
    c_lat_sum: num(r.c_lat_sum) ?? 0,
    c_lat_n: count(r.c_lat_n),
    h_lat_sum: num(r.h_lat_sum) ?? 0,
    h_lat_n: count(r.h_lat_n),
    c_score_sum: num(r.c_score_sum) ?? 0,
    h_score_sum: num(r.h_score_sum) ?? 0,
    c_norm_sum: num(r.c_norm_sum) ?? 0,
    c_norm_n: count(r.c_norm_n),
    h_norm_sum: num(r.h_norm_sum) ?? 0,
    h_norm_n: count(r.h_norm_n),
    abs_delta_sum: num(r.abs_delta_sum) ?? 0,
    oor: count(r.oor),
  }));
}

/** Σ of `f` over the cells matching `where`. */
export function total(cells: readonly Cell[], where: (c: Cell) => boolean, f: (c: Cell) => number = (c) => c.n): number {
  let s = 0;
  for (const c of cells) if (where(c)) s += f(c);
  return s;
}

/** Sums grouped by a key of the cells (for versions, configs, error kinds). */
export function byKey<K>(cells: readonly Cell[], key: (c: Cell) => K | null, where: (c: Cell) => boolean = () => true) {
  const out = new Map<K, { n: number; last: number | null; cells: Cell[] }>();
  for (const c of cells) {
    const k = key(c);
    if (k === null || !where(c)) continue;
    const e = out.get(k) ?? { n: 0, last: null, cells: [] };
    e.n += c.n;
    if (c.max_t !== null && (e.last === null || c.max_t > e.last)) e.last = c.max_t;
    e.cells.push(c);
    out.set(k, e);
  }
  return out;
}

/** Over records where both models scored: what needs the values themselves (correlation, deciles). */
export async function bothScoredScan(db: Queries): Promise<Row> {
  const [moments, edges] = await Promise.all([
    db.one(`SELECT corr(c_score, h_score) AS pearson, var_pop(c_score) AS vx, var_pop(h_score) AS vy
      FROM rec WHERE ${BOTH_SCORED}`),
    percentiles(db, { from: 'rec', where: BOTH_SCORED, value: 'c_score' }, PSI_EDGE_PS),
  ]);
  return { ...moments, psi_edges: edges };
}
