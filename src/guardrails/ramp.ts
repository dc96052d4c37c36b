/**
 * The ramp schedule (docs/operations.md#the-ramp-schedule): every `ramp.every`, while no guardrail
 * is tripped, the challenger fraction moves to the next step strictly above the current one and
 * `ramp_step` is written; after the last step it stays. A config load restarts it from the file's
 * `traffic.challenger`.
 *
 * It halts (until the next config load) on a guardrail trip and on a rollback from elsewhere (the
 * admin's POST /rollback): stepping under a rollback would announce fractions nobody is served.
 * While the kill switch is on a due step is held back and retried `every` later: ramping while
 * nothing reaches the challenger would skip the guardrails' watch.
 */
import type { Runtime } from '../runtime/runtime.js';

/** Injectable time, so tests drive the schedule with fake timers. */
export interface RampClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

// Globals looked up at call time, so node:test's mock.timers applies to the default clock too.
export const systemClock: RampClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** setTimeout's largest delay; longer waits are taken in chunks (Node turns a larger one into 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Index of the first step strictly above `fraction`; -1 when there is none. */
export function nextStepAbove(steps: readonly number[], fraction: number): number {
  return steps.findIndex((s) => s > fraction);
}

/** Index of the step equal to `fraction`; null when the fraction is not a step. */
export function stepIndex(steps: readonly number[], fraction: number): number | null {
  const i = steps.indexOf(fraction);
  return i < 0 ? null : i;
}

export interface RampOptions {
  clock?: RampClock;
}

export class RampSchedule {
  readonly #rt: Runtime;
  readonly #clock: RampClock;
  #timer: unknown = null;
  /** The fraction this schedule last set (or started from). */
  #current = 0;
  readonly #offConfig: () => void;

  constructor(rt: Runtime, options: RampOptions = {}) {
    this.#rt = rt;
    this.#clock = options.clock ?? systemClock;
    this.#offConfig = rt.onConfigLoad(() => this.restart());
    this.restart();
  }

  /** Start over from the file's `traffic.challenger` (called at each config load). */
  restart(): void {
    this.#cancel();
    const rt = this.#rt;
    const ramp = rt.fileConfig.config.ramp;
    this.#current = rt.fileConfig.config.traffic.challenger;
    rt.levers.setRamp({ step: ramp ? stepIndex(ramp.steps, this.#current) : null, next: null });
    if (ramp && !rt.levers.guardrail.tripped) this.#arm();
  }

  /** No more steps until the next config load (a guardrail tripped). */
  halt(): void {
    this.#cancel();
    this.#rt.levers.setRamp({ next: null });
  }

  /** Halt and stop following config loads (shutdown). */
  stop(): void {
    this.halt();
    this.#offConfig();
  }

  #arm(): void {
    const ramp = this.#rt.fileConfig.config.ramp;
    if (!ramp || nextStepAbove(ramp.steps, this.#current) < 0) {
      this.#rt.levers.setRamp({ next: null });
      return;
    }
    this.#rt.levers.setRamp({ next: this.#clock.now() + ramp.every });
    this.#wait(ramp.every);
  }

  #wait(ms: number): void {
    const chunk = Math.min(ms, MAX_TIMER_MS);
    const timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      if (chunk < ms) this.#wait(ms - chunk);
      else this.#step();
    }, chunk);
    // The schedule never keeps the process alive by itself.
    (timer as { unref?: () => void } | null)?.unref?.();
    this.#timer = timer;
  }

  #cancel(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #step(): void {
    const rt = this.#rt;
    const ramp = rt.fileConfig.config.ramp;
    if (!ramp || rt.levers.guardrail.tripped || rt.levers.rolledBack) return this.halt();
    if (rt.levers.bypass) return this.#arm();
    const i = nextStepAbove(ramp.steps, this.#current);
    if (i < 0) return this.halt();
    const from = this.#current;
    const to = ramp.steps[i]!;
    rt.levers.setRamp({ fraction: to, step: i });
    this.#current = to;
    rt.event('ramp_step', { from, to });
    this.#arm();
  }
}

/** Run the file config's ramp schedule on `rt` (none: the schedule idles until a config brings one). */
export function startRampSchedule(rt: Runtime, options: RampOptions = {}): RampSchedule {
  return new RampSchedule(rt, options);
}
