/** Tallies per model and perturbation kind, the jitter score deltas, and the probe's verdict (pure). */
import type { LoadedConfig, Role } from '../config/types.js';
import { PERTURBATION_KINDS, type PerturbationKind, type Variant } from './perturb.js';

/** What one call to one model gave. */
export type CallOutcome =
  | { type: 'score'; score: number }
  | { type: 'status4xx' | 'status5xx' | 'noScore' | 'connectionError'; message: string };

export interface ModelTally {
  calls: number;
  /** A failure on `original` only: rejecting a perturbed body with a 4xx is the right answer. */
  status4xx: number;
  status5xx: number;
  /** No answer: connect error, reset, or the model's `timeoutMs` passed. */
  connectionErrors: number;
  /** A 2xx (or 1xx/3xx) answer without a numeric score at the route's pointer. */
  noScore: number;
  /** `jitter` only: mean |score(jittered) − score(original)| over variants where both were scored. */
  meanAbsScoreDelta: number | null;
}

export interface ProbeFailure {
  model: Role;
  kind: PerturbationKind;
  field: string | null;
  sample: number | null;
  error: string;
}

export interface ProbeResult {
  config: string;
  route: string;
  models: Record<Role, { version: string; url: string }>;
  samples: number;
  variants: number;
  results: Record<Role, Record<PerturbationKind, ModelTally>>;
  /** Kinds on which the challenger failed while the champion never did, with the fields involved. */
  challengerWorse: Array<{ kind: PerturbationKind; fields: string[] }>;
  /** The first MAX_FAILURES_LISTED failures of each model, for finding the body that broke it. */
  failures: ProbeFailure[];
}

export const MAX_FAILURES_LISTED = 50;

export interface SummaryInput {
  loaded: LoadedConfig;
  samples: number;
  variants: readonly Variant[];
  /** Per model, the outcome of each variant, index for index. */
  outcomes: Readonly<Record<Role, readonly CallOutcome[]>>;
}

const COUNTER = {
  status4xx: 'status4xx',
  status5xx: 'status5xx',
  connectionError: 'connectionErrors',
  noScore: 'noScore',
} as const;

/**
 * Whether an answer to a variant of `kind` is a failure (docs/probe.md#reading-the-result): the
 * untouched samples must be scored, so there anything but a scored 2xx is one (a 4xx included); a
 * perturbed body may rightly be refused with a 4xx.
 */
export function isFailure(kind: PerturbationKind, o: CallOutcome): boolean {
  if (o.type === 'score') return false;
  return kind === 'original' || o.type !== 'status4xx';
}

/** A tally's failures, as isFailure counts them for its kind. */
export function failuresOf(t: ModelTally, kind: PerturbationKind): number {
  return t.status5xx + t.connectionErrors + t.noScore + (kind === 'original' ? t.status4xx : 0);
}

export function summarize({ loaded, samples, variants, outcomes }: SummaryInput): ProbeResult {
  const { config } = loaded;
  const route = config.routes[0]!;
  const results = { champion: tallyModel(variants, outcomes.champion), challenger: tallyModel(variants, outcomes.challenger) };
  const failures: ProbeFailure[] = [];
  for (const model of ['champion', 'challenger'] as const) {
    let listed = 0;
    outcomes[model].forEach((o, i) => {
      const v = variants[i]!;
      if (o.type === 'score' || !isFailure(v.kind, o) || listed++ >= MAX_FAILURES_LISTED) return;
      failures.push({ model, kind: v.kind, field: v.field, sample: v.sample, error: o.message });
    });
  }
  const challengerWorse = PERTURBATION_KINDS
    .filter((k) => failuresOf(results.challenger[k], k) > 0 && failuresOf(results.champion[k], k) === 0)
    .map((kind) => ({ kind, fields: failedFields(variants, outcomes.challenger, kind) }));
  return {
    config: loaded.id,
    route: `${route.method} ${route.path}`,
    models: {
      champion: { version: config.models.champion.version, url: config.models.champion.url },
      challenger: { version: config.models.challenger.version, url: config.models.challenger.url },
    },
    samples,
    variants: variants.length,
    results,
    challengerWorse,
    failures,
  };
}

/** One model's tallies per kind; every kind is present, with zero calls when no variant had it. */
export function tallyModel(variants: readonly Variant[], outcomes: readonly CallOutcome[]): Record<PerturbationKind, ModelTally> {
  const tallies = Object.fromEntries(PERTURBATION_KINDS.map((k) => [k, emptyTally()])) as Record<PerturbationKind, ModelTally>;
  const baseline = new Map<number, number>();
  variants.forEach((v, i) => {
    const o = outcomes[i]!;
    if (v.kind === 'original' && o.type === 'score') baseline.set(v.sample!, o.score);
  });
  let deltaSum = 0;
  let deltaN = 0;
  variants.forEach((v, i) => {
    const o = outcomes[i]!;
    const t = tallies[v.kind];
    t.calls++;
    if (o.type !== 'score') {
      t[COUNTER[o.type]]++;
      return;
    }
    const base = v.kind === 'jitter' ? baseline.get(v.sample!) : undefined;
    if (base !== undefined) {
      deltaSum += Math.abs(o.score - base);
      deltaN++;
    }
  });
  tallies.jitter.meanAbsScoreDelta = deltaN === 0 ? null : deltaSum / deltaN;
  return tallies;
}

function emptyTally(): ModelTally {
  return { calls: 0, status4xx: 0, status5xx: 0, connectionErrors: 0, noScore: 0, meanAbsScoreDelta: null };
}

/** Distinct fields (in order of first failure) of a kind's failed variants; whole-body kinds have none. */
function failedFields(variants: readonly Variant[], outcomes: readonly CallOutcome[], kind: PerturbationKind): string[] {
  const fields = new Set<string>();
  variants.forEach((v, i) => {
    if (v.kind === kind && v.field !== null && isFailure(kind, outcomes[i]!)) fields.add(v.field);
  });
  return [...fields];
}
