/**
 * How traffic is split: the fixed fractions (`traffic`), the schedule that raises the challenger's
 * (`ramp`), read together since every step must fit beside the control group, and what the control
 * group receives (`control`).
 */
import { isMapping, REQUIRED, type Section } from '../reader.js';
import { joinPath } from '../issues.js';
import type { ControlConfig, ControlResponse, RampConfig, TrafficConfig } from '../types.js';
import { DEFAULTS, EPSILON, allRead, type Built } from './rules.js';

const KEYS = {
  traffic: ['control', 'challenger', 'shadow', 'shadowLimit'],
  ramp: ['steps', 'every'],
  control: ['patch', 'response'],
  response: ['status', 'body'],
} as const;

/** `traffic` and `ramp`; a rule across the two is checked once both are read. */
export function readTraffic(root: Section): { traffic: Built<TrafficConfig> | undefined; ramp: Built<RampConfig> | undefined } {
  const t = root.section('traffic', KEYS.traffic);
  const control = t.fraction('control', 0);
  const challenger = t.fraction('challenger', 0);
  const shadow = t.bool('shadow', true);
  const shadowLimit = t.num('shadowLimit', DEFAULTS.shadowLimit, { integer: true, min: 0 });
  if (control !== undefined && challenger !== undefined && control + challenger > 1 + EPSILON) {
    t.problem('traffic.challenger', `traffic.control + traffic.challenger must be <= 1, got ${t.quote(control, 'traffic.control')} + ${t.quote(challenger, 'traffic.challenger')}`);
  }
  return {
    traffic: control === undefined || challenger === undefined || shadow === undefined || shadowLimit === undefined
      ? undefined
      : { control, challenger, shadow, shadowLimit },
    ramp: ramp(root.section('ramp', KEYS.ramp), control),
  };
}

/** `control`: the fraction already given to the control group, which every step must leave room for. */
function ramp(s: Section, control: number | undefined): Built<RampConfig> | undefined {
  if (!s.present) return undefined;
  const list = s.list('steps', REQUIRED);
  if (list !== undefined && list.length === 0) s.problem(s.at('steps'), 'must list at least one step');
  const read = list?.map((v, i) => s.checkNumber(v, joinPath(s.at('steps'), i), { min: 0, max: 1 }));
  read?.forEach((v, i) => {
    const before = i > 0 ? read[i - 1] : undefined;
    if (v !== undefined && before !== undefined && v <= before) {
      s.problem(joinPath(s.at('steps'), i), `must be greater than the step before (${s.quote(before, joinPath(s.at('steps'), i - 1))}): steps only go up`);
    }
  });
  const every = s.duration('every', REQUIRED, 1);
  read?.forEach((step, i) => {
    if (control !== undefined && step !== undefined && control + step > 1 + EPSILON) {
      s.problem(`ramp.steps[${i}]`, `traffic.control + a ramp step must be <= 1, got ${s.quote(control, 'traffic.control')} + ${s.quote(step, `ramp.steps[${i}]`)}`);
    }
  });
  const steps = allRead(read);
  return steps === undefined || every === undefined ? undefined : { steps, every };
}

export function readControl(root: Section): Built<ControlConfig> {
  const s = root.section('control', KEYS.control);
  const patch = s.has('patch') && !isMapping(s.raw('patch'))
    ? s.problem(s.at('patch'), `must be a mapping (a JSON Merge Patch object), got ${s.describe(s.raw('patch'), s.at('patch'))}`)
    : s.json('patch');
  const r = s.section('response', KEYS.response);
  const response = r.present ? controlResponse(r) : undefined;
  if (s.has('patch') && s.has('response')) s.problem(s.path, 'use either patch or response, not both');
  // json() copies a mapping into a mapping: a patch that is not one was refused above.
  return { patch: isMapping(patch) ? patch : undefined, response };
}

function controlResponse(r: Section): Built<ControlResponse> | undefined {
  const status = r.num('status', DEFAULTS.controlStatus, { integer: true, min: 100, max: 599 });
  const body = r.json('body');
  return status === undefined ? undefined : { status, body };
}
