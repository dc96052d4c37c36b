/** `models` and the optional calibrated-score summary (docs/report.md, "models"). */
import { percentiles } from '../percentiles.js';
import { nums, type Queries } from '../sql.js';
import { ROLES, type ModelSummary, type Role, type ScoreSummary } from '../types.js';
import { byKey, total, type Cell } from './scan.js';

const SCORE_PS = [0.1, 0.5, 0.9, 0.95, 0.99];
const LATENCY_PS = [0.5, 0.95, 0.99];

function scoreSummary(mean: number | null, qs: unknown): ScoreSummary {
  const q = nums(qs);
  return { mean, p10: q[0] ?? null, p50: q[1] ?? null, p90: q[2] ?? null, p95: q[3] ?? null, p99: q[4] ?? null };
}

export interface ModelQuantiles {
  lat: Record<Role, unknown>;
  score: Record<Role, unknown>;
  norm: Record<Role, unknown>;
}

/**
 * The percentile queries, each on its own: issued together (and with the other sections' queries)
 * they run side by side.
 */
export async function modelQuantiles(db: Queries, cells: Promise<readonly Cell[]>): Promise<ModelQuantiles> {
  const quantile = (value: string, ps: readonly number[], where?: string) =>
    percentiles(db, { from: 'rec', value, ...(where ? { where } : {}) }, ps);
  // Calibrated scores are rare: their percentiles are asked for only once the cells show some.
  const norm = (p: 'c' | 'h') =>
    cells.then((cs) => (total(cs, () => true, (c) => c[`${p}_norm_n`]) > 0 ? quantile(`${p}_norm`, SCORE_PS) : null));
  const [cLat, hLat, cScore, hScore, cNorm, hNorm] = await Promise.all([
    quantile('c_lat', LATENCY_PS, 'c_called'),
    quantile('h_lat', LATENCY_PS, 'h_called'),
    quantile('c_score', SCORE_PS),
    quantile('h_score', SCORE_PS),
    norm('c'),
    norm('h'),
  ]);
  return {
    lat: { champion: cLat, challenger: hLat },
    score: { champion: cScore, challenger: hScore },
    norm: { champion: cNorm, challenger: hNorm },
  };
}

/** Counts and means from the cells, percentiles from {@link modelQuantiles}. */
export function modelsSection(cells: readonly Cell[], q: ModelQuantiles): Record<Role, ModelSummary> {
  const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

  const out = {} as Record<Role, ModelSummary>;
  for (const role of ROLES) {
    const p = role === 'champion' ? 'c' : 'h';
    const called = (c: Cell) => c[`${p}_called`];
    const calls = total(cells, called);
    const errors = total(cells, (c) => called(c) && c[`${p}_err`]);
    // Error kinds, most frequent first. Kinds come from the records: `__proto__` is an ordinary one.
    const byKind: Record<string, number> = Object.create(null);
    for (const [kind, e] of [...byKey(cells, (c) => c[`${p}_kind`], (c) => called(c) && c[`${p}_err`]).entries()]
      .sort(([ka, a], [kb, b]) => b.n - a.n || (ka < kb ? -1 : 1))) byKind[kind] = e.n;
    // The most frequent version; ties go to the one seen last (as for the SRM config).
    const version = [...byKey(cells, (c) => c[`${p}_version`]).entries()]
      .sort(([, a], [, b]) => b.n - a.n || (b.last ?? -Infinity) - (a.last ?? -Infinity))[0]?.[0] ?? null;
    const l = nums(q.lat[role]);
    const scored = total(cells, (c) => c[`${p}_has`]);
    const summary: ModelSummary = {
      version,
      calls,
      errors: { rate: ratio(errors, calls), byKind },
      latencyMs: {
        p50: l[0] ?? null,
        p95: l[1] ?? null,
        p99: l[2] ?? null,
        mean: ratio(total(cells, called, (c) => c[`${p}_lat_sum`]), total(cells, called, (c) => c[`${p}_lat_n`])),
      },
      score: scoreSummary(ratio(total(cells, () => true, (c) => c[`${p}_score_sum`]), scored), q.score[role]),
      decisionRate: ratio(total(cells, (c) => c[`${p}_dec`] === true), total(cells, (c) => c[`${p}_dec`] !== null)),
    };
    const normN = total(cells, () => true, (c) => c[`${p}_norm_n`]);
    if (normN > 0) {
      summary.normalized = { n: normN, ...scoreSummary(total(cells, () => true, (c) => c[`${p}_norm_sum`]) / normN, q.norm[role]) };
    }
    out[role] = summary;
  }
  return out;
}
