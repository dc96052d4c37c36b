/**
 * The lever state (docs/design.md#the-levers): the kill switch, a rollback, a guardrail trip and the
 * ramp schedule's step. One holder, changed only through its methods; whoever needs to follow it
 * subscribes. The runtime recomputes the effective config when a lever that shapes it moves.
 */
import type { LeverValues } from './effective.js';

export type LeverChange = 'bypass' | 'rollback' | 'trip' | 'ramp' | 'reset' | 'adopt';

export interface RampState {
  /** Index of the current ramp step in `ramp.steps`; null when the fraction is not a step. */
  step: number | null;
  /** When the schedule takes its next step (epoch ms); null when it will not. */
  next: number | null;
}

export class Levers {
  #bypass: boolean;
  #rolledBack = false;
  #rule: string | null = null;
  #rampFraction: number | null = null;
  #step: number | null = null;
  #next: number | null = null;
  readonly #listeners = new Set<(change: LeverChange) => void>();

  constructor(bypass: boolean) {
    this.#bypass = bypass;
  }

  get bypass(): boolean {
    return this.#bypass;
  }

  /** A rollback is in force (until the next file config). */
  get rolledBack(): boolean {
    return this.#rolledBack;
  }

  /** The guardrail trip, as `/status` shows it. */
  get guardrail(): { tripped: boolean; rule: string | null } {
    return { tripped: this.#rule !== null, rule: this.#rule };
  }

  /** The ramp schedule's position, as `/status` shows it. */
  get ramp(): RampState {
    return { step: this.#step, next: this.#next };
  }

  /** What the effective config is computed from. */
  values(): LeverValues {
    return { bypass: this.#bypass, rolledBack: this.#rolledBack, rampFraction: this.#rampFraction };
  }

  /** Called after every change, in subscription order; returns the function that unsubscribes. */
  onChange(listener: (change: LeverChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  setBypass(on: boolean): void {
    this.#bypass = on;
    this.#notify('bypass');
  }

  /** Challenger fraction forced to 0 until the next file config. */
  rollback(): void {
    this.#rolledBack = true;
    this.#notify('rollback');
  }

  /** A guardrail tripped on `rule` (once per file config). */
  trip(rule: string): void {
    this.#rule = rule;
    this.#notify('trip');
  }

  /** The ramp schedule moved: its fraction (undefined: unchanged), step and next time. */
  setRamp(state: Partial<RampState> & { fraction?: number }): void {
    if (state.fraction !== undefined) this.#rampFraction = state.fraction;
    if (state.step !== undefined) this.#step = state.step;
    if (state.next !== undefined) this.#next = state.next;
    this.#notify('ramp');
  }

  /** A new file config: rollback, trip and ramp progress belong to the old one. */
  reset(bypass: boolean): void {
    this.#bypass = bypass;
    this.#rolledBack = false;
    this.#rule = null;
    this.#rampFraction = null;
    this.#notify('reset');
  }

  /** Take another process's values (a worker follows its primary). */
  adopt(values: LeverValues): void {
    this.#bypass = values.bypass;
    this.#rolledBack = values.rolledBack;
    this.#rampFraction = values.rampFraction;
    this.#notify('adopt');
  }

  #notify(change: LeverChange): void {
    for (const listener of this.#listeners) listener(change);
  }
}
