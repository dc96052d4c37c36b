/**
 * validateConfig: the one place the config's rules and defaults live (docs/config.md, "Reference").
 * Each section is read by a builder in sections/ that returns the section's type from types.ts, or
 * undefined when a read failed; every problem is collected and reported at once (`path: problem` per
 * line); a valid config comes back complete and deep-frozen.
 */
import { NO_SOURCES, configInvalid, type ConfigIssue, type EnvSources } from './issues.js';
import { Section } from './reader.js';
import { readAssignment } from './sections/assignment.js';
import { readLimits, readListeners } from './sections/listeners.js';
import { readLogging } from './sections/logging.js';
import { readModels } from './sections/models.js';
import { readFleet } from './sections/fleet.js';
import { readCalibration, readGuardrails } from './sections/optional.js';
import { readRoutes } from './sections/routes.js';
import { DEFAULTS, type Built } from './sections/rules.js';
import { readControl, readTraffic } from './sections/traffic.js';
import { FALLBACKS, MODES, type Config } from './types.js';

/** A load balancer stops sending within seconds; an hour is a typo, and a timer cannot wait much longer. */
const MAX_SHUTDOWN_DELAY_MS = 3_600_000;

const ROOT_KEYS = ['listen', 'admin', 'models', 'routes', 'passthrough', 'decision', 'assignment', 'traffic', 'control',
  'fallback', 'mode', 'limits', 'shutdownGraceMs', 'shutdownDelayMs', 'logging', 'guardrails', 'ramp', 'calibration', 'fleet'] as const;

/**
 * Check a parsed config (YAML/JSON data, variables already substituted) and fill in the defaults.
 * Throws one CCR_ERR_CONFIG_INVALID listing every problem (`err.issues`). `sources` names the
 * values that came from the environment: messages name their source, never their text.
 */
export function validateConfig(raw: unknown, sources: EnvSources = NO_SOURCES): Config {
  if (raw === undefined || raw === null) {
    throw configInvalid([{ path: '', message: 'is empty: a config needs at least models and routes' }]);
  }
  const issues: ConfigIssue[] = [];
  const root = new Section({ issues, sources }, raw, '', ROOT_KEYS);
  const config = root.present ? readConfig(root) : undefined;
  // A section is undefined only after a read failed, and every failed read is an issue.
  if (config === undefined || issues.length > 0) throw configInvalid(inSectionOrder(issues));
  return deepFreeze(dropUndefined(config));
}

function readConfig(root: Section): Built<Config> | undefined {
  const { listen, admin } = readListeners(root);
  const routes = readRoutes(root);
  const models = readModels(root, routes);
  const passthrough = root.bool('passthrough', true);
  const threshold = root.section('decision', ['threshold']).num('threshold', DEFAULTS.threshold);
  const assignment = readAssignment(root);
  const { traffic, ramp } = readTraffic(root);
  const control = readControl(root);
  const fallback = root.oneOf('fallback', FALLBACKS, 'champion');
  const mode = root.oneOf('mode', MODES, 'normal');
  const limits = readLimits(root);
  const shutdownGraceMs = root.duration('shutdownGraceMs', DEFAULTS.shutdownGraceMs, 0);
  let shutdownDelayMs = root.duration('shutdownDelayMs', DEFAULTS.shutdownDelayMs, 0);
  if (shutdownDelayMs !== undefined && shutdownDelayMs > MAX_SHUTDOWN_DELAY_MS) {
    shutdownDelayMs = root.problem(root.at('shutdownDelayMs'), `must be <= 1h, got ${root.quote(shutdownDelayMs, root.at('shutdownDelayMs'))} ms`);
  }
  const logging = readLogging(root);
  const guardrails = readGuardrails(root);
  const calibration = readCalibration(root);
  const fleet = readFleet(root);
  if (listen === undefined || admin === undefined || models === undefined || routes === undefined ||
    passthrough === undefined || threshold === undefined || assignment === undefined || traffic === undefined ||
    fallback === undefined || mode === undefined || limits === undefined || shutdownGraceMs === undefined ||
    shutdownDelayMs === undefined || logging === undefined) return undefined;
  return {
    listen, admin, models, routes, passthrough, decision: { threshold }, assignment, traffic, control, fallback, mode,
    limits, shutdownGraceMs, shutdownDelayMs, logging, guardrails, ramp, calibration, fleet,
  };
}

/**
 * Issues listed section by section, in the order of the keys above (unknown root keys first): a rule
 * across sections is checked where its last value is read, which may be ahead of a section's turn.
 */
function inSectionOrder(issues: ConfigIssue[]): ConfigIssue[] {
  const rank = (i: ConfigIssue) => (ROOT_KEYS as readonly string[]).indexOf(/^[^.[]*/.exec(i.path)![0]);
  // Ranked once per issue, not once per comparison: a hostile config may hold thousands.
  return issues.map((issue, i) => ({ issue, rank: rank(issue), i }))
    .sort((a, b) => a.rank - b.rank || a.i - b.i)
    .map((r) => r.issue);
}

/**
 * Delete the members that are undefined, all the way down, so an optional value not given stays
 * absent (and out of the config id). Only for values the validator built: it edits them in place.
 */
function dropUndefined<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) Reflect.deleteProperty(value, key);
      else dropUndefined(v);
    }
  }
  return value;
}

/** Freeze `value` and everything inside it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
