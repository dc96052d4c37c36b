/**
 * Per-cluster sums for the clustered figures (docs/report.md, "Customers, not requests"): a
 * record's cluster is its unit when the unit chose its group (`clu`), else the record alone. Only
 * the moments across clusters leave DuckDB.
 */
import { clusterMoments, clusteredMcNemar, type ClusterMoments } from '../../stats/clustered.js';
import { count, num, type Queries, type Row } from '../sql.js';
import { GROUPS, type GroupName } from '../types.js';

/**
 * One row per cluster from `source` (which has `clu`, and `keys` to keep clusters apart by), with
 * the sums `sums` (SQL expressions, named): grouped by unit, or one row per record without one.
 */
export function perCluster(source: string, keys: readonly string[], sums: Record<string, string>): string {
  const k = keys.map((x) => `${x}, `).join('');
  const named = (f: (e: string) => string) => Object.entries(sums).map(([name, e]) => `${f(e)} AS ${name}`).join(', ');
  return `SELECT ${k}${named((e) => `sum(${e})`)}, count(*) AS k FROM ${source} WHERE clu IS NOT NULL GROUP BY ${k}clu
    UNION ALL SELECT ${k}${named((e) => `(${e})`)}, 1 AS k FROM ${source} WHERE clu IS NULL`;
}

export interface GroupMoments {
  /** Positives over labelled records. */
  label: ClusterMoments;
  /** Σ value·label over labelled records. */
  value: ClusterMoments;
  /** Σ value over labelled records. */
  valueTotal: number;
}

const moments = (r: Row, s: string): ClusterMoments => ({
  m: count(r.m),
  sumS: num(r[`sum_${s}`]) ?? 0,
  sumN: count(r.sum_n),
  varS: num(r[`var_${s}`]),
  varN: num(r.var_n),
  covSN: num(r[`cov_${s}`]),
});

/** Per group, over its labelled records: the cluster moments of positives and of value lost. */
export async function impactMoments(db: Queries): Promise<Record<GroupName, GroupMoments>> {
  const rows = await db.rows(`SELECT grp, count(*) AS m, sum(s) AS sum_s, sum(sv) AS sum_sv, sum(k) AS sum_n, sum(vt) AS vt,
      var_samp(s) AS var_s, var_samp(sv) AS var_sv, var_samp(k) AS var_n, covar_samp(s, k) AS cov_s, covar_samp(sv, k) AS cov_sv
    FROM (${perCluster('labelled', ['grp'], { s: 'label', sv: 'val * label', vt: 'val' })})
    WHERE grp IN ('control', 'champion', 'challenger') GROUP BY grp`);
  const empty = (): GroupMoments => ({ label: clusterMoments([], []), value: clusterMoments([], []), valueTotal: 0 });
  const out = Object.fromEntries(GROUPS.map((g) => [g, empty()])) as Record<GroupName, GroupMoments>;
  for (const r of rows) {
    out[r.grp as GroupName] = { label: moments(r, 's'), value: moments(r, 'sv'), valueTotal: num(r.vt) ?? 0 };
  }
  return out;
}

/** The records of the paired test: labelled, both decisions known. */
export const PAIRED = 'c_dec IS NOT NULL AND h_dec IS NOT NULL';

/**
 * Durkalski's clustered McNemar over the paired records, d_u = c_u − b_u; and whether some
 * cluster holds more than one paired record (the verdict then uses it).
 */
export async function clusteredPaired(db: Queries): Promise<{ pValue: number | null; clustered: boolean }> {
  const d = `(h_dec = (label = 1))::INTEGER - (c_dec = (label = 1))::INTEGER`;
  const r = await db.one(`SELECT sum(d) AS sd, sum(d * d) AS sd2, max(k) AS kmax
    FROM (${perCluster(`(SELECT clu, c_dec, h_dec, label FROM labelled WHERE ${PAIRED})`, [], { d })})`);
  return { pValue: clusteredMcNemar(num(r.sd) ?? 0, num(r.sd2) ?? 0), clustered: count(r.kmax) > 1 };
}
