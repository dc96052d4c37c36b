/**
 * Exact percentiles by sorting (docs/report.md, "Memory"). DuckDB's `quantile_cont` aggregate keeps
 * every value of its input in memory, outside the database's memory limit; a window's sort spills
 * to disk beyond it. So the values are numbered in order by a window query, only the rows at the
 * ranks a percentile needs come back, and the interpolation is done here, exactly as
 * `quantile_cont` does it: over the n values sorted ascending, RN = (n − 1)·p, and the percentile is
 * x[⌊RN⌋]·(1 − d) + x[⌈RN⌉]·d with d = RN − ⌊RN⌋ (x[⌊RN⌋] itself when RN is whole). NULLs are
 * left out, as the aggregate leaves them out.
 */
import { num, sqlNumber, type Param, type Queries } from './sql.js';

export interface PercentileInput {
  /** The rows (a table, view or subquery) and the condition they must meet. */
  from: string;
  where?: string;
  /** The value; rows where it is NULL are left out. */
  value: string;
  /** A grouping expression: the percentiles of each of its values (one group without it). */
  key?: string;
}

/** `ps` over the values of `input`, per value of its key (`null` without one); each group's list follows `ps`. */
export async function percentilesBy(db: Queries, input: PercentileInput, ps: readonly number[], params: readonly Param[] = []):
  Promise<Map<unknown, (number | null)[]>> {
  if (ps.length === 0) return new Map();
  const list = `[${ps.map(sqlNumber).join(', ')}]`;
  const partition = input.key !== undefined ? 'PARTITION BY k' : '';
  const rows = await db.rows(`SELECT k, n, i, x FROM (
      SELECT k, x, row_number() OVER (${partition} ORDER BY x) - 1 AS i, count(*) OVER (${partition}) AS n
      FROM (SELECT ${input.key ?? 'NULL'} AS k, ${input.value} AS x FROM ${input.from}
        WHERE (${input.where ?? 'true'}) AND ${input.value} IS NOT NULL))
    WHERE list_contains(list_transform(${list}, p -> floor((n - 1)::DOUBLE * p)::BIGINT), i)
      OR list_contains(list_transform(${list}, p -> ceil((n - 1)::DOUBLE * p)::BIGINT), i)`, params);
  const groups = new Map<unknown, { n: number; at: Map<number, number> }>();
  for (const r of rows) {
    let g = groups.get(r.k);
    if (!g) groups.set(r.k, (g = { n: Number(r.n), at: new Map() }));
    g.at.set(Number(r.i), num(r.x)!);
  }
  const out = new Map<unknown, (number | null)[]>();
  for (const [k, g] of groups) out.set(k, ps.map((p) => interpolate(g.at, g.n, p)));
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
