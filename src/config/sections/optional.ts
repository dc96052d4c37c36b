/** The sections that are off unless given: `guardrails` and `calibration` (`ramp` is in traffic.ts). */
import { REQUIRED, type Section } from '../reader.js';
import { GUARDRAIL_ACTIONS, type CalibrationConfig, type GuardrailsConfig } from '../types.js';
import { DEFAULTS, POSITIVE_INT, type Built } from './rules.js';

const KEYS = {
  guardrails: ['window', 'minSamples', 'maxErrorRate', 'maxLatencyP99Ratio', 'maxDecisionRateRatio', 'maxScorePsi', 'action'],
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
  if (window !== undefined && minSamples !== undefined && minSamples > window) {
    s.problem(s.at('minSamples'), `must be <= guardrails.window (${s.quote(window, s.at('window'))}): the window never holds more`);
  }
  if (window === undefined || minSamples === undefined || action === undefined) return undefined;
  return { window, minSamples, maxErrorRate, maxLatencyP99Ratio, maxDecisionRateRatio, maxScorePsi, action };
}

export function readCalibration(root: Section): Built<CalibrationConfig> | undefined {
  const s = root.section('calibration', KEYS.calibration);
  if (!s.present) return undefined;
  const file = s.str('file', REQUIRED, true);
  const inject = s.pointer('inject', undefined, true);
  return file === undefined ? undefined : { file, inject };
}
