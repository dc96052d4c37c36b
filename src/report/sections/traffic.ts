/** `window` and `traffic` (docs/report.md, "window", "traffic" and "SRM"). */
import { count, type Queries } from '../sql.js';
import { GROUPS, type GroupName, type ReportWindow, type Traffic } from '../types.js';
import { byConfigQuery, srmOf } from './by-config.js';
import { total, type Cell } from './scan.js';

export async function windowAndTraffic(
  db: Queries,
  cells: readonly Cell[],
  malformedLines: number,
): Promise<{ window: Omit<ReportWindow, 'notices'>; traffic: Traffic }> {
  const [rejected, byConfig] = await Promise.all([
    db.one(`SELECT count(*) AS n FROM pair_rows WHERE rejected`),
    byConfigQuery(db),
  ]);
  const all = () => true;
  // Records, not a batch's instances (tables.ts `rec`).
  const call = (c: Cell) => c.call;
  const records = total(cells, call);
  const mins = cells.map((c) => c.min_t).filter((t): t is number => t !== null);
  const maxs = cells.map((c) => c.max_t).filter((t): t is number => t !== null);
  const n = (g: GroupName) => total(cells, (c) => c.call && c.grp === g);
  // Shares over records in one of the three groups, so they sum to 1.
  const inGroups = GROUPS.reduce((sum, g) => sum + n(g), 0);
  return {
    window: {
      from: mins.length ? Math.min(...mins) : null,
      to: maxs.length ? Math.max(...maxs) : null,
      records,
      rejected: count(rejected.n),
      malformedLines,
      outOfRange: total(cells, all, (c) => c.oor),
    },
    traffic: {
      groups: Object.fromEntries(GROUPS.map((g) => [g, { n: n(g), share: inGroups > 0 ? n(g) / inGroups : null }])) as Traffic['groups'],
      shadowCoverage: records > 0 ? total(cells, (c) => c.call && c.c_called && c.h_called) / records : null,
      fallbacks: total(cells, (c) => c.fallback),
      srm: srmOf(byConfig),
      byConfig,
    },
  };
}

