/**
 * Exact percentiles by sorting (docs/report.md, "Memory"). DuckDB's `quantile_cont` aggregate keeps
 * every value of its input in memory, outside the database's memory limit; a window's sort spills
 * to disk beyond it. So the values are numbered in order by a window query, only the rows at the
 * ranks a percentile needs come back, and the interpolation is done here, exactly as
 * `quantile_cont` does it: over the n values sorted ascending, RN = (n − 1)·p, and the percentile is
 * x[⌊RN⌋]·(1 − d) + x[⌈RN⌉]·d with d = RN − ⌊RN⌋ (x[⌊RN⌋] itself when RN is whole). NULLs are
 * left out, as the aggregate leaves them out. Many small groups (the timeline's buckets) are the
 * exception: while their values fit a given share of memory, `quantile_cont` finishes them faster.
 */
import { Doubles, num, nums, sqlInt, sqlNumber, type Param, type Queries } from './sql.js';

/**
 * How many values `quantile_cont` may hold within `memory`: an eighth of it, at 16 bytes a value (8,
 * and as much again while its buffer grows).
 */
export function heldValuesFor(memory: number): number {
  return Math.floor(memory / 8 / 16);
}

export interface PercentileInput {
  /** The rows (a table, view or subquery) and the condition they must meet. */
  from: string;
  where?: string;
  /** The value; rows where it is NULL are left out. */
  value: string;
  /** A numeric grouping expression: the percentiles of each of its values (rows where it is NULL left out; one group without it). */
  key?: string;
}

/**
 * `ps` over the values of `input`, per value of its key (`null` without one); each group's list
 * follows `ps`. Up to `heldValues` values in all, groups are finished by `quantile_cont` (it holds
 * them in memory, and with many small groups it is the faster); beyond, by the sort.
 */
export async function percentilesBy(db: Queries, input: PercentileInput, ps: readonly number[], params: readonly Param[] = [],
  heldValues = 0): Promise<Map<unknown, (number | null)[]>> {
  const where = `(${input.where ?? 'true'}) AND ${input.value} IS NOT NULL${input.key !== undefined ? ` AND (${input.key}) IS NOT NULL` : ''}`;
  const values = `SELECT ${input.key !== undefined ? `${input.key} AS k, ` : ''}${input.value} AS x FROM ${input.from} WHERE ${where}`;
  // The count first: a count over the window's partition costs more than the sort itself.
  const counts = await db.rows(input.key !== undefined ? `SELECT k, count(*) AS n FROM (${values}) GROUP BY k`
    : `SELECT NULL AS k, count(*) AS n FROM (${values}) HAVING n > 0`, params);
  const out = new Map<unknown, (number | null)[]>();
  if (ps.length === 0 || counts.length === 0) return out;
  if (input.key !== undefined && counts.reduce((s, c) => s + Number(c.n), 0) <= heldValues) {
    const held = await db.rows(`SELECT k, quantile_cont(x, [${ps.map(sqlNumber).join(', ')}]) AS q FROM (${values}) GROUP BY k`, params);
    for (const r of held) out.set(r.k, nums(r.q));
    return out;
  }
  const keys: number[] = [];
  const ranks: number[] = [];
  for (const c of counts) {
    for (const i of new Set(ps.flatMap((p) => [Math.floor((Number(c.n) - 1) * p), Math.ceil((Number(c.n) - 1) * p)]))) {
      keys.push(Number(c.k));
      ranks.push(i);
    }
  }
  // One group: its ranks as constants. Several: a list of (group, rank) pairs to keep.
  const rows = input.key === undefined
    ? await db.rows(`SELECT NULL AS k, i, x FROM (SELECT x, row_number() OVER (ORDER BY x) - 1 AS i FROM (${values}))
        WHERE i IN (${ranks.map(sqlInt).join(', ')})`, params)
    : await db.rows(`SELECT r.k, r.i, r.x FROM (SELECT k, x, row_number() OVER (PARTITION BY k ORDER BY x) - 1 AS i FROM (${values})) r
        SEMI JOIN (SELECT unnest($${params.length + 1}) AS k, unnest($${params.length + 2})::BIGINT AS i) w ON r.k = w.k AND r.i = w.i`,
      [...params, new Doubles(keys), new Doubles(ranks)]);
  const at = new Map<unknown, Map<number, number>>();
  for (const r of rows) {
    let g = at.get(r.k);
    if (!g) at.set(r.k, (g = new Map()));
    g.set(Number(r.i), num(r.x)!);
  }
  for (const c of counts) out.set(c.k, ps.map((p) => interpolate(at.get(c.k) ?? new Map(), Number(c.n), p)));
  return out;
}

/** `ps` over the values of `input` (no key): nulls when it has none. */
export async function percentiles(db: Queries, input: Omit<PercentileInput, 'key'>, ps: readonly number[],
  params: readonly Param[] = []): Promise<(number | null)[]> {
  return (await percentilesBy(db, input, ps, params)).get(null) ?? ps.map(() => null);
}

function interpolate(at: ReadonlyMap<number, number>, n: number, p: number): number | null {
  const rn = (n - 1) * p;
  const lo = Math.floor(rn);
  const hi = Math.ceil(rn);
  const xlo = at.get(lo);
  const xhi = at.get(hi);
  if (xlo === undefined || xhi === undefined) return null;
  if (lo === hi) return xlo;
  const d = rn - lo;
  return xlo * (1 - d) + xhi * d;
}
