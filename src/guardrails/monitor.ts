/**
 * Guardrails on a running proxy (docs/operations.md#guardrails): every pair record the recorder
 * publishes goes into the window, and after each one every rule with a limit is judged on its own,
 * with its own action: a rule that tripped never silences another.
 */
import type { GuardrailAction, GuardrailsConfig } from '../config/types.js';
import type { PairRecord } from '../records/types.js';
import type { Runtime } from '../runtime/runtime.js';
import { RULES, watchRules, type Breach, type RuleWatch } from './rules.js';
import { GuardrailWindow } from './window.js';

export interface GuardrailsOptions {
  /** Called once per trip, after the event and before a rollback (the ramp schedule halts here). */
  onTrip?: (breach: Breach) => void;
}

interface State {
  window: GuardrailWindow;
  watches: RuleWatch[];
  /** A guardrail rolled the challenger back since the config load (at most once per load). */
  rolledBack: boolean;
}

/**
 * Follow the runtime's pair records with the file config's `guardrails` (none: nothing is checked).
 * The window, the score reference and every rule's state restart at each config load. Returns a
 * function that detaches.
 */
export function attachGuardrails(rt: Runtime, options: GuardrailsOptions = {}): () => void {
  let state = stateFor(rt.fileConfig.config.guardrails);
  // Each rule's trip counter exists from start-up, at 0 (docs/operations.md, "Metrics").
  for (const { rule } of RULES) rt.metrics.guardrailTrips.inc({ rule }, 0);

  const onPair = (record: PairRecord) => {
    if (state === null) return;
    if (!state.window.observe(record)) return;
    for (const watch of state.watches) {
      const breach = watch.check(state.window);
      if (breach !== null) trip(state, breach, watch.action);
    }
  };

  const trip = (s: State, breach: Breach, action: GuardrailAction) => {
    rt.levers.trip(breach.rule);
    rt.metrics.guardrailTrips.inc({ rule: breach.rule });
    rt.event('guardrail_tripped', { rule: breach.rule, value: breach.value, limit: breach.limit, action });
    options.onTrip?.(breach);
    if (action === 'rollback' && !s.rolledBack) {
      s.rolledBack = true;
      rollBack();
    }
  };

  // The one place a guardrail moves traffic.
  const rollBack = () => rt.rollback('guardrail');

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
  const watches = config === undefined ? [] : watchRules(config);
  if (config === undefined || watches.length === 0) return null;
  return { window: new GuardrailWindow({ window: config.window, minSamples: config.minSamples }), watches, rolledBack: false };
}
