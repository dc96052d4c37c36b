/** The guardrail rules (docs/operations.md, "Guardrails"): each compares one window figure with its limit; an absent limit turns it off. */
import type { GuardrailsConfig } from '../config/types.js';
import type { GuardrailWindow } from './window.js';

export type GuardrailRule = 'error_rate' | 'latency_p99_ratio' | 'decision_rate_ratio' | 'score_psi';

export interface Breach {
  rule: GuardrailRule;
  value: number;
  limit: number;
}

type Limits = Pick<GuardrailsConfig, 'maxErrorRate' | 'maxLatencyP99Ratio' | 'maxDecisionRateRatio' | 'maxScorePsi'>;

/** In the order they are checked: the first breached rule is the one reported. */
export const RULES: ReadonlyArray<{ rule: GuardrailRule; limit: keyof Limits; value: (w: GuardrailWindow) => number | null }> = [
  { rule: 'error_rate', limit: 'maxErrorRate', value: (w) => w.errorRate() },
  { rule: 'latency_p99_ratio', limit: 'maxLatencyP99Ratio', value: (w) => w.latencyP99Ratio() },
  { rule: 'decision_rate_ratio', limit: 'maxDecisionRateRatio', value: (w) => w.decisionRateRatio() },
  { rule: 'score_psi', limit: 'maxScorePsi', value: (w) => w.scorePsi() },
];

/**
 * The first rule whose figure is strictly above its limit, or null. Nothing is judged before the
 * window holds `minSamples` records; a figure that is undefined (null) never breaches.
 */
export function findBreach(window: GuardrailWindow, limits: Limits): Breach | null {
  if (window.size < window.minSamples) return null;
  for (const { rule, limit: key, value } of RULES) {
    const limit = limits[key];
    if (limit === undefined) continue;
    const v = value(window);
    if (v !== null && v > limit) return { rule, value: v, limit };
  }
  return null;
}
