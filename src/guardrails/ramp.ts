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

/**
 * Where a schedule stands: it began at `start` (epoch ms) and `held` due steps were put off (kill
 * switch on). Step k (1, 2, ...) is due at `start + (held + k) * every`.
 */
export interface RampOrigin {
  readonly start: number;
  readonly held: number;
}

/**
 * A schedule shared with other processes (the fleet: docs/operations.md, "Fleet: levers shared over
 * Redis"). `join` is told of each file config's local origin and calls `adopt` (now or later, maybe
 * more than once) with the origin the fleet holds for that file config; `hold` is told when this
 * process put a due step off.
 */
export interface RampShare {
  join(fileId: string, origin: RampOrigin, adopt: (origin: RampOrigin) => void): void;
  hold(fileId: string, origin: RampOrigin): void;
}

export interface RampOptions {
  clock?: RampClock;
  share?: RampShare;
}

export class RampSchedule {
  readonly #rt: Runtime;
  readonly #clock: RampClock;
  readonly #share: RampShare | undefined;
  #timer: unknown = null;
  /** The fraction this schedule last set (or started from). */
  #current = 0;
  /** Steps taken since the file config's fraction. */
  #taken = 0;
  #origin: RampOrigin = { start: 0, held: 0 };
  #halted = false;
  readonly #offConfig: () => void;
  readonly #offLevers: () => void;

  constructor(rt: Runtime, options: RampOptions = {}) {
    this.#rt = rt;
    this.#clock = options.clock ?? systemClock;
    this.#share = options.share;
    this.#offConfig = rt.onConfigLoad(() => this.restart());
    // A rollback or a trip from anywhere (admin, guardrail, the fleet) stops the schedule at once.
    this.#offLevers = rt.levers.onChange((change) => {
      if ((change === 'rollback' || change === 'trip') && !this.#halted) this.halt();
    });
    this.restart();
  }

  /** Start over from the file's `traffic.challenger` (called at each config load). */
  restart(): void {
    this.#cancel();
    const rt = this.#rt;
    const ramp = rt.fileConfig.config.ramp;
    this.#current = rt.fileConfig.config.traffic.challenger;
    this.#taken = 0;
    this.#origin = { start: this.#clock.now(), held: 0 };
    this.#halted = false;
    rt.levers.setRamp({ step: ramp ? stepIndex(ramp.steps, this.#current) : null, next: null });
    if (ramp && !rt.levers.guardrail.tripped) this.#arm();
    if (ramp && this.#share) {
      const fileId = rt.fileConfig.id;
      this.#share.join(fileId, this.#origin, (origin) => {
        if (rt.fileConfig.id === fileId) this.#adopt(origin);
      });
    }
  }

  /** No more steps until the next config load (a guardrail tripped). */
  halt(): void {
    this.#cancel();
    this.#halted = true;
    this.#rt.levers.setRamp({ next: null });
  }

  /** Halt and stop following config loads (shutdown). */
  stop(): void {
    this.halt();
    this.#offConfig();
    this.#offLevers();
  }

  /** The fleet's origin for this file config: catch up with the steps it says are due. */
  #adopt(origin: RampOrigin): void {
    if (origin.start === this.#origin.start && origin.held === this.#origin.held) return;
    this.#origin = origin;
    const rt = this.#rt;
    const ramp = rt.fileConfig.config.ramp;
    if (!ramp || this.#halted || rt.levers.guardrail.tripped || rt.levers.rolledBack) return;
    this.#cancel();
    const due = Math.max(0, Math.floor((this.#clock.now() - origin.start) / ramp.every) - origin.held);
    const from = this.#current;
    let to = from;
    let step: number | null = null;
    for (let k = this.#taken; k < due; k++) {
      const i = nextStepAbove(ramp.steps, to);
      if (i < 0) break;
      to = ramp.steps[i]!;
      step = i;
    }
    this.#taken = Math.max(this.#taken, due);
    if (step !== null) {
      rt.levers.setRamp({ fraction: to, step });
      this.#current = to;
      rt.event('ramp_step', { from, to, source: 'fleet' });
    }
    this.#arm();
  }

  #arm(): void {
    const ramp = this.#rt.fileConfig.config.ramp;
    if (!ramp || nextStepAbove(ramp.steps, this.#current) < 0) {
      this.#rt.levers.setRamp({ next: null });
      return;
    }
    const next = this.#origin.start + (this.#origin.held + this.#taken + 1) * ramp.every;
    this.#rt.levers.setRamp({ next });
    this.#wait(Math.max(0, next - this.#clock.now()));
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
    if (rt.levers.bypass) {
      this.#origin = { start: this.#origin.start, held: this.#origin.held + 1 };
      this.#share?.hold(rt.fileConfig.id, this.#origin);
      return this.#arm();
    }
    const i = nextStepAbove(ramp.steps, this.#current);
    if (i < 0) return this.halt();
    const from = this.#current;
    const to = ramp.steps[i]!;
    rt.levers.setRamp({ fraction: to, step: i });
    this.#current = to;
    this.#taken++;
    rt.event('ramp_step', { from, to });
    this.#arm();
  }
}

/** Run the file config's ramp schedule on `rt` (none: the schedule idles until a config brings one). */
export function startRampSchedule(rt: Runtime, options: RampOptions = {}): RampSchedule {
  return new RampSchedule(rt, options);
}
