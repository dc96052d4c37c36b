/** The guardrail rules (docs/operations.md, "Guardrails"): each compares one window figure with its limit; an absent limit turns it off. */
import type { GuardrailAction, GuardrailsConfig } from '../config/types.js';
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

/**
 * One rule with a limit, watched record after record with its action (docs/operations.md#guardrails):
 *
 * - `rollback`: trips on its first breach, then stays quiet until the next config load (the
 *   challenger is out of the ramp by then);
 * - `alert`: trips on a breach, then again only once its figure has been back within the limit for
 *   `rearmAfter` records in a row (a full window) and breaches anew.
 *
 * Each rule is watched on its own: a rule that tripped never stops another from being judged.
 */
export class RuleWatch {
  readonly rule: GuardrailRule;
  readonly limit: number;
  readonly action: GuardrailAction;
  readonly #value: (w: GuardrailWindow) => number | null;
  readonly #rearmAfter: number;
  #tripped = false;
  /** Records in a row within the limit since the trip (alert rules). */
  #within = 0;

  constructor(entry: (typeof RULES)[number], limit: number, action: GuardrailAction, rearmAfter: number) {
    this.rule = entry.rule;
    this.#value = entry.value;
    this.limit = limit;
    this.action = action;
    this.#rearmAfter = rearmAfter;
  }

  get tripped(): boolean {
    return this.#tripped;
  }

  /** Judge the window after one more record: the breach to act on, or null (call once per record). */
  check(window: GuardrailWindow): Breach | null {
    if (this.#tripped && this.action === 'rollback') return null;
    if (window.size < window.minSamples) return null;
    const v = this.#value(window);
    // An undefined figure neither breaches nor counts as being within the limit.
    if (v === null) return null;
    if (v > this.limit) {
      this.#within = 0;
      if (this.#tripped) return null;
      this.#tripped = true;
      return { rule: this.rule, value: v, limit: this.limit };
    }
    if (this.#tripped && ++this.#within >= this.#rearmAfter) {
      this.#tripped = false;
      this.#within = 0;
    }
    return null;
  }
}

/** A watch for every rule `config` gives a limit, each with its action (`actions.<rule>`, else `action`). */
export function watchRules(config: GuardrailsConfig): RuleWatch[] {
  const watches: RuleWatch[] = [];
  for (const entry of RULES) {
    const limit = config[entry.limit];
    if (limit === undefined) continue;
    watches.push(new RuleWatch(entry, limit, config.actions?.[entry.rule] ?? config.action, config.window));
  }
  return watches;
}
