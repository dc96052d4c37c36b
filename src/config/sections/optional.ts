/** The sections that are off unless given: `guardrails` and `calibration` (`ramp` is in traffic.ts). */
import { REQUIRED, type Section } from '../reader.js';
import { setOwn } from '../../util/json-pointer.js';
import { GUARDRAIL_ACTIONS, GUARDRAIL_RULES, type CalibrationConfig, type GuardrailAction, type GuardrailsConfig } from '../types.js';
import { DEFAULTS, POSITIVE_INT, type Built } from './rules.js';

const KEYS = {
  guardrails: ['window', 'minSamples', 'maxErrorRate', 'maxLatencyP99Ratio', 'maxDecisionRateRatio', 'maxScorePsi', 'action', 'actions'],
  calibration: ['file', 'inject'],
} as const;

export function readGuardrails(root: Section): Built<GuardrailsConfig> | undefined {
  const s = root.section('guardrails', KEYS.guardrails);
  if (!s.present) return undefined;
  const ratio = { gt: 0 };
  const window = s.num('window', DEFAULTS.guardrailWindow, POSITIVE_INT);
  const minSamples = s.num('minSamples', DEFAULTS.guardrailMinSamples, POSITIVE_INT);
  // An absent limit turns its rule off.
  const maxErrorRate = s.fraction('maxErrorRate');
  const maxLatencyP99Ratio = s.num('maxLatencyP99Ratio', undefined, ratio);
  const maxDecisionRateRatio = s.num('maxDecisionRateRatio', undefined, ratio);
  const maxScorePsi = s.num('maxScorePsi', undefined, { min: 0 });
  const action = s.oneOf('action', GUARDRAIL_ACTIONS, 'rollback');
  // Each rule's own action; a rule left out takes `action`.
  const a = s.section('actions', GUARDRAIL_RULES);
  const actions: Partial<Record<string, GuardrailAction>> = {};
  let actionsRead = true;
  for (const rule of GUARDRAIL_RULES) {
    if (!a.has(rule)) continue;
    const v = a.oneOf(rule, GUARDRAIL_ACTIONS);
    if (v === undefined) actionsRead = false;
    else setOwn(actions, rule, v);
  }
  if (window !== undefined && minSamples !== undefined && minSamples > window) {
    s.problem(s.at('minSamples'), `must be <= guardrails.window (${s.quote(window, s.at('window'))}): the window never holds more`);
  }
  if (window === undefined || minSamples === undefined || action === undefined || !actionsRead) return undefined;
  if (s.has('actions') && !a.present) return undefined; // not a mapping: already reported
  return { window, minSamples, maxErrorRate, maxLatencyP99Ratio, maxDecisionRateRatio, maxScorePsi, action, actions: a.present ? actions : undefined };
}

export function readCalibration(root: Section): Built<CalibrationConfig> | undefined {
  const s = root.section('calibration', KEYS.calibration);
  if (!s.present) return undefined;
  const file = s.str('file', REQUIRED, true);
  const inject = s.pointer('inject', undefined, true);
  return file === undefined ? undefined : { file, inject };
}
