/** What every scored request of one listener shares: the recorder, the shadow bound, the drain flag. */
import type { Recorder } from '../runtime/recorder.js';

/** Shadow calls in flight, bounded by `traffic.shadowLimit` (docs/reliability.md). */
export class ShadowSlots {
  #inflight = 0;

  /** Take a slot unless `limit` are taken. */
  take(limit: number): boolean {
    if (this.#inflight >= limit) return false;
    this.#inflight++;
    return true;
  }

  release(): void {
    this.#inflight--;
  }
}

export interface ScoredContext {
  readonly recorder: Recorder;
  readonly shadow: ShadowSlots;
  /** `draining` is set once shutdown began: every answer then closes its connection. */
  readonly listener: { readonly draining: boolean };
}
