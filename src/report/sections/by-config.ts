/**
 * SRM per config id and for the longest one (docs/report.md, "SRM: what it means and what to do"):
 * clusters per group against the split announced for that config in `events.jsonl`.
 */
import { srmTest } from '../../stats/tests.js';
import { count, num, type Queries } from '../sql.js';
import { GROUPS, type ConfigSrm, type GroupName, type Srm } from '../types.js';

/** Expected shares per group from the announced control and challenger fractions. */
function shares(e: { control: number; challenger: number }): Record<GroupName, number> {
  // 1 − c − h can come out as 1e-17 instead of 0; a share that small is no group at all.
  const rest = 1 - e.control - e.challenger;
  return { control: e.control, champion: Math.abs(rest) < 1e-12 ? 0 : Math.max(0, rest), challenger: e.challenger };
}

/** Every config id of the window's records, in order of its first record, with its own SRM check. */
export async function byConfigQuery(db: Queries): Promise<ConfigSrm[]> {
  const [configs, clusters, events] = await Promise.all([
    db.rows(`SELECT config, count(*) AS records, min(time) AS t0, max(time) AS t1,
        count(*) FILTER (grp = 'control') AS g_control, count(*) FILTER (grp = 'champion') AS g_champion,
        count(*) FILTER (grp = 'challenger') AS g_challenger,
        count(*) FILTER (grp = 'control' AND clu IS NULL) AS a_control, count(*) FILTER (grp = 'champion' AND clu IS NULL) AS a_champion,
        count(*) FILTER (grp = 'challenger' AND clu IS NULL) AS a_challenger
      FROM rec WHERE call AND config IS NOT NULL GROUP BY config ORDER BY t0 ASC NULLS LAST, config`),
    // Records, not a batch's instances (`call`, tables.ts). Customers per config and group: a unit
    // seen in two groups of one config counts in each; a record without one counts alone (the a_*
    // counts above).
    db.rows(`SELECT config, grp, count(*) AS k FROM (SELECT config, grp, clu FROM rec
        WHERE call AND config IS NOT NULL AND grp IN ('control', 'champion', 'challenger') AND clu IS NOT NULL GROUP BY ALL)
      GROUP BY ALL`),
    // The first event announcing each config with usable fractions.
    db.rows(`SELECT config, arg_min({'control': control, 'challenger': challenger}, {'b': batch, 's': rowid}) AS e
      FROM events WHERE config IS NOT NULL AND (msg IS NULL OR msg = 'event') AND control IS NOT NULL AND challenger IS NOT NULL
      GROUP BY config`),
  ]);
  // Config ids come from the records: `__proto__` is an ordinary one.
  const k = new Map<string, number>();
  for (const r of clusters) k.set(JSON.stringify([r.config, r.grp]), count(r.k));
  const expected = new Map<string, { control: number; challenger: number }>();
  for (const r of events) {
    const e = r.e as { control: unknown; challenger: unknown };
    expected.set(String(r.config), { control: num(e.control)!, challenger: num(e.challenger)! });
  }
  return configs.map((r) => {
    const config = String(r.config);
    const exp = expected.get(config) ?? null;
    const test = exp === null
      ? { chi2: null, pValue: null, flag: null }
      : srmTest(GROUPS.map((g) => (k.get(JSON.stringify([config, g])) ?? 0) + count(r[`a_${g}`])), GROUPS.map((g) => shares(exp)[g]));
    return {
      config,
      records: count(r.records),
      from: num(r.t0),
      to: num(r.t1),
      expected: exp,
      groups: { control: count(r.g_control), champion: count(r.g_champion), challenger: count(r.g_challenger) },
      ...test,
    };
  });
}

/** The config with the most records (ties: the one whose last record is latest, then the larger id). */
export function srmOf(byConfig: readonly ConfigSrm[]): Srm {
  const top = [...byConfig].sort((a, b) =>
    b.records - a.records || (b.to ?? -Infinity) - (a.to ?? -Infinity) || (a.config < b.config ? 1 : -1))[0];
  if (top === undefined) return { config: null, chi2: null, pValue: null, flag: null };
  return { config: top.config, chi2: top.chi2, pValue: top.pValue, flag: top.flag };
}
