/**
 * Calibration tables straight from the logs (docs/calibration.md, "At scale"): the labelled scores
 * stay in the report's bounded database (`--memory`, spilling beyond it) and JavaScript receives a
 * bounded number of rows per version — its counts, the scores at the percentile ranks, and the
 * records at or above each point — whatever the number of labelled records. The arithmetic on those
 * rows is table.ts's, so the tables are the ones {@link buildTable} makes from every row in memory.
 */
import { calibrationOf, checkClasses, checkSize, fitTable, percentilePointsAt, type AtLeast, type Calibration } from './table.js';
import { openLogs, outOfMemory, type LoadOptions } from '../report/load.js';
import { DEFAULT_MEMORY } from '../report/database.js';
import { count, Doubles, num, queriesOn, type Queries } from '../report/sql.js';

export interface VersionCounts {
  version: string;
  /** Labelled records with a score (both roles pooled). */
  records: number;
  positives: number;
}

export interface CalibrationFromLogs {
  /** Every version with labelled scores, by name, whether or not it could be calibrated. */
  versions: VersionCounts[];
  /** The tables; throws as buildCalibration does when a version cannot be calibrated. */
  calibration: () => Calibration;
}

interface Version extends VersionCounts {
  vid: number;
  points?: number[];
  atLeast?: Map<number, AtLeast>;
}

/**
 * One (vid, score, label) row per labelled score: both roles pooled, labels joined as the report
 * joins them (the `rec_label` view). The load keeps only finite scores (within ±1e15) and labels
 * 0/1, the rows buildTable accepts. Versions become small integers: the rows are narrow, and
 * spill little.
 */
async function labelledRows(q: Queries): Promise<void> {
  await q.run(`CREATE OR REPLACE TABLE cal_scores AS
    WITH l AS (SELECT c_version, c_score, h_version, h_score, label FROM rec_label WHERE label IS NOT NULL)
    SELECT c_version AS version, c_score AS score, label FROM l WHERE c_score IS NOT NULL AND c_version IS NOT NULL
    UNION ALL
    SELECT h_version, h_score, label FROM l WHERE h_score IS NOT NULL AND h_version IS NOT NULL`);
  await q.run(`CREATE OR REPLACE TABLE cal_versions AS
    SELECT (row_number() OVER (ORDER BY version) - 1)::INTEGER AS vid, version, records, positives
    FROM (SELECT version, count(*) AS records, sum(label)::BIGINT AS positives FROM cal_scores GROUP BY version)`);
  await q.run(`CREATE OR REPLACE TABLE cal AS
    SELECT v.vid, s.score, s.label::UTINYINT AS label FROM cal_scores s JOIN cal_versions v USING (version)`);
  await q.run('DROP TABLE cal_scores');
}

/**
 * The scores at the positions percentilePointsAt reads — ⌊(n − 1)·k/100⌋ and the next one where
 * that split leaves a rest, in the same integer arithmetic — of every version that can have a table.
 */
async function percentileScores(q: Queries, versions: Map<number, Version>): Promise<void> {
  const rows = await q.rows(`
    WITH v AS (SELECT vid, records AS n FROM cal_versions WHERE vid IN (SELECT unnest($1::INTEGER[]))),
    ranks AS (SELECT vid, ((n - 1) * k) // 100 AS lo, ((n - 1) * k) % 100 AS rest FROM v, range(101) AS r(k)),
    wanted AS (SELECT vid, lo AS pos FROM ranks UNION SELECT vid, lo + 1 FROM ranks WHERE rest > 0),
    ordered AS (SELECT vid, score, row_number() OVER (PARTITION BY vid ORDER BY score) - 1 AS pos
      FROM cal WHERE vid IN (SELECT vid FROM v))
    SELECT o.vid, o.pos, o.score FROM ordered o JOIN wanted w ON o.vid = w.vid AND o.pos = w.pos`,
  [[...versions.keys()].map(String)]);
  const picked = new Map<number, Map<number, number>>();
  for (const r of rows) {
    const vid = count(r.vid);
    let m = picked.get(vid);
    if (!m) picked.set(vid, (m = new Map()));
    m.set(count(r.pos), num(r.score)!);
  }
  for (const [vid, v] of versions) {
    const at = picked.get(vid) ?? new Map<number, number>();
    v.points = percentilePointsAt(v.records, (i) => {
      const x = at.get(i);
      if (x === undefined) throw new Error(`calibrate: no score at position ${i} of version ${JSON.stringify(v.version)}`);
      return x;
    });
  }
}

/**
 * For each point, the labelled records scoring at least that much and the positives among them:
 * every record counted once, at the highest point not above its score (an as-of join), then
 * summed from the top down.
 */
async function recordsAtLeast(q: Queries, versions: Map<number, Version>): Promise<void> {
  await q.run('CREATE OR REPLACE TABLE cal_points (vid INTEGER, t DOUBLE)');
  for (const [vid, v] of versions) {
    const points = [...new Set(v.points)];
    // Bound, never spliced: one statement per version, its points as one parameter.
    await q.run('INSERT INTO cal_points SELECT $1::INTEGER, unnest($2)', [vid, new Doubles(points)]);
  }
  const rows = await q.rows(`
    SELECT p.vid, p.t, count(*) AS records, sum(c.label)::BIGINT AS positives
    FROM cal c ASOF JOIN cal_points p ON c.vid = p.vid AND c.score >= p.t
    GROUP BY p.vid, p.t`);
  // A point's bucket, keyed by version and point: a point with no record between it and the next is none.
  const buckets = new Map<number, Map<number, AtLeast>>();
  for (const r of rows) {
    const vid = count(r.vid);
    let m = buckets.get(vid);
    if (!m) buckets.set(vid, (m = new Map()));
    m.set(num(r.t)!, { records: count(r.records), positives: count(r.positives) });
  }
  for (const [vid, v] of versions) {
    const own = buckets.get(vid) ?? new Map<number, AtLeast>();
    const atLeast = new Map<number, AtLeast>();
    let records = 0;
    let positives = 0;
    for (const t of [...new Set(v.points)].sort((a, b) => b - a)) {
      const b = own.get(t);
      records += b?.records ?? 0;
      positives += b?.positives ?? 0;
      atLeast.set(t, { records, positives });
    }
    v.atLeast = atLeast;
  }
}

/**
 * Opens the logs (bounded by `opts.memory`), computes what every version's table needs in the
 * database, and closes it. The tables themselves are built by `calibration()`, which throws
 * CCR_ERR_CALIBRATION as buildCalibration does (too few records, one class only).
 */
export async function calibrationFromLogs(opts: LoadOptions, metric = 'precision'): Promise<CalibrationFromLogs> {
  const store = await openLogs(opts);
  try {
    await store.labelled; // it runs on `conn`, which the queries below use
    const q = queriesOn(store.conn);
    opts.onProgress?.('ordering the labelled scores…');
    await labelledRows(q);
    const all: Version[] = (await q.rows('SELECT vid, version, records, positives FROM cal_versions ORDER BY vid')).map((r) => ({
      vid: count(r.vid), version: String(r.version), records: count(r.records), positives: count(r.positives),
    }));
    // Only versions that can have a table are read further; the others keep their error.
    const usable = new Map<number, Version>();
    for (const v of all) {
      try {
        checkSize(v.records, v.version);
        checkClasses(v.records, v.positives, v.version);
        usable.set(v.vid, v);
      } catch {
        // reported by calibration(), with every other version's problem
      }
    }
    if (usable.size > 0) {
      await percentileScores(q, usable);
      await recordsAtLeast(q, usable);
    }
    return {
      versions: all.map(({ version, records, positives }) => ({ version, records, positives })),
      calibration: () => calibrationOf(all.map((v) => [v.version, v] as [string, Version]), metric, (v) => {
        checkSize(v.records, v.version);
        checkClasses(v.records, v.positives, v.version);
        const atLeast = v.atLeast!;
        return fitTable(v.points!, (t) => {
          const a = atLeast.get(t);
          if (a === undefined) throw new Error(`calibrate: no count at ${t} for version ${JSON.stringify(v.version)}`);
          return a;
        });
      }),
    };
  } catch (err) {
    throw outOfMemory(err, opts.memory ?? DEFAULT_MEMORY);
  } finally {
    await store.close();
  }
}
