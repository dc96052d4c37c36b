/** `window` and `traffic` (docs/report.md, "window", "traffic" and "SRM"). */
import { srmTest } from '../../stats/tests.js';
import { count, num, type Queries } from '../sql.js';
import { GROUPS, type GroupName, type ReportWindow, type Srm, type Traffic } from '../types.js';
import { byKey, total, type Cell } from './scan.js';

export async function windowAndTraffic(
  db: Queries,
  cells: readonly Cell[],
  malformedLines: number,
): Promise<{ window: ReportWindow; traffic: Traffic }> {
  const [rejected, srm] = await Promise.all([
    db.one(`SELECT count(*) AS n FROM pair_rows WHERE rejected`),
    srmSection(db, cells),
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
      srm,
    },
  };
}

/**
 * SRM (docs/report.md, "SRM: what it means and what to do"): the config id with the most records
 * (ties: the one whose last record is latest), its expected split from the first event carrying
 * that id with a `traffic` object.
 */
export async function srmSection(db: Queries, cells: readonly Cell[]): Promise<Srm> {
  const configs = [...byKey(cells, (c) => c.config, (c) => c.call).entries()].sort(([ka, a], [kb, b]) =>
    b.n - a.n || (b.last ?? -Infinity) - (a.last ?? -Infinity) || (ka < kb ? 1 : -1));
  const top = configs[0];
  if (top === undefined) return { config: null, chi2: null, pValue: null, flag: null };
  const [config, { cells: mine }] = top;
  const none: Srm = { config, chi2: null, pValue: null, flag: null };
  const ev = await db.rows(`SELECT control, challenger FROM events
    WHERE config = $1 AND (msg IS NULL OR msg = 'event')
      AND control IS NOT NULL AND challenger IS NOT NULL
    ORDER BY batch, rowid LIMIT 1`, [config]);
  if (ev.length === 0) return none;
  const control = num(ev[0]!.control)!;
  const challenger = num(ev[0]!.challenger)!;
  // 1 − c − h can come out as 1e-17 instead of 0; a share that small is no group at all.
  const rest = 1 - control - challenger;
  const shares: Record<GroupName, number> = { control, champion: Math.abs(rest) < 1e-12 ? 0 : Math.max(0, rest), challenger };
  return { config, ...srmTest(GROUPS.map((g) => total(mine, (c) => c.call && c.grp === g)), GROUPS.map((g) => shares[g])) };
}
