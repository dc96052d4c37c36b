/**
 * Guardrails on a running proxy (docs/operations.md#guardrails): every pair record the recorder
 * publishes goes into the window, the rules are checked after each one, and the first breach trips
 * the guardrail once per config load.
 */
import type { GuardrailsConfig } from '../config/types.js';
import type { PairRecord } from '../records/types.js';
import type { Runtime } from '../runtime/runtime.js';
import { RULES, findBreach, type Breach } from './rules.js';
import { GuardrailWindow } from './window.js';

export interface GuardrailsOptions {
  /** Called once per trip, after the event and before a rollback (the ramp schedule halts here). */
  onTrip?: (breach: Breach) => void;
}

interface State {
  config: GuardrailsConfig;
  window: GuardrailWindow;
  tripped: boolean;
}

/**
 * Follow the runtime's pair records with the file config's `guardrails` (none: nothing is checked).
 * The window and the score reference restart at each config load. Returns a function that detaches.
 */
export function attachGuardrails(rt: Runtime, options: GuardrailsOptions = {}): () => void {
  let state = stateFor(rt.fileConfig.config.guardrails);
  // Each rule's trip counter exists from start-up, at 0 (docs/operations.md, "Metrics").
  for (const { rule } of RULES) rt.metrics.guardrailTrips.inc({ rule }, 0);

  const onPair = (record: PairRecord) => {
    if (state === null || state.tripped) return;
    if (!state.window.observe(record)) return;
    const breach = findBreach(state.window, state.config);
    if (breach !== null) trip(state, breach);
  };

  const trip = (s: State, breach: Breach) => {
    s.tripped = true;
    rt.levers.trip(breach.rule);
    rt.metrics.guardrailTrips.inc({ rule: breach.rule });
    rt.event('guardrail_tripped', { rule: breach.rule, value: breach.value, limit: breach.limit });
    options.onTrip?.(breach);
    if (s.config.action === 'rollback') rt.rollback('guardrail');
  };

  const offPair = rt.recorder.onPair(onPair);
  const offConfig = rt.onConfigLoad(() => {
    state = stateFor(rt.fileConfig.config.guardrails);
  });
  return () => {
    offPair();
    offConfig();
  };
}

function stateFor(config: GuardrailsConfig | undefined): State | null {
  // No section, or a section with no limit (`guardrails: {}`): nothing to check, nothing to keep.
  if (config === undefined || RULES.every((r) => config[r.limit] === undefined)) return null;
  return { config, window: new GuardrailWindow({ window: config.window, minSamples: config.minSamples }), tripped: false };
}
