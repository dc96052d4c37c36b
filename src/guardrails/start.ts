/** Guardrails and the ramp schedule on a running proxy, linked so that a trip halts the ramp at once. */
import type { Runtime } from '../runtime/runtime.js';
import { attachGuardrails } from './monitor.js';
import { startRampSchedule, type RampOptions } from './ramp.js';

const running = new WeakMap<Runtime, () => void>();

/**
 * Start the guardrails and the ramp schedule of `rt`'s config (both follow config loads).
 * Returns the function that stops both; call it when shutdown begins. Starting twice on one runtime
 * returns the running pair's stop function: two monitors would trip twice.
 */
export function startGuardrails(rt: Runtime, options: RampOptions = {}): () => void {
  const existing = running.get(rt);
  if (existing) return existing;
  const ramp = startRampSchedule(rt, options);
  const detach = attachGuardrails(rt, { onTrip: () => ramp.halt() });
  const stop = () => {
    if (running.get(rt) !== stop) return;
    running.delete(rt);
    detach();
    ramp.stop();
  };
  running.set(rt, stop);
  return stop;
}
