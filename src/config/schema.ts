/**
 * validateConfig: the one place SPEC 3's rules and defaults live. Every problem is collected and
 * reported at once (`path: problem` per line); a valid config comes back complete and deep-frozen.
 */
import { NO_SOURCES, configInvalid, joinPath, type ConfigIssue, type EnvSources } from './issues.js';
import { REQUIRED, Section, isMapping } from './reader.js';
import type { Config, ModelConfig, RouteConfig } from './types.js';

const KEYS = {
  root: ['listen', 'admin', 'models', 'routes', 'passthrough', 'decision', 'assignment', 'traffic', 'control',
    'fallback', 'mode', 'limits', 'shutdownGraceMs', 'logging', 'guardrails', 'ramp', 'calibration'],
  listen: ['host', 'port'],
  admin: ['host', 'port', 'tokenEnv'],
  models: ['champion', 'challenger'],
  model: ['url', 'version', 'timeoutMs', 'threshold'],
  route: ['method', 'path', 'score', 'preset'],
  decision: ['threshold'],
  assignment: ['unit', 'salt', 'seed'],
  traffic: ['control', 'challenger', 'shadow', 'shadowLimit'],
  control: ['patch', 'response'],
  response: ['status', 'body'],
  limits: ['bodyBytes', 'headersTimeoutMs', 'requestTimeoutMs'],
  logging: ['dir', 'unit', 'fields', 'bodies', 'redact', 'rotate'],
  rotate: ['size', 'keep'],
  guardrails: ['window', 'minSamples', 'maxErrorRate', 'maxLatencyP99Ratio', 'maxDecisionRateRatio', 'maxScorePsi', 'action'],
  ramp: ['steps', 'every'],
  calibration: ['file', 'inject'],
} as const;

/** Defaults SPEC 3 does not list; chosen to match the SPEC example (docs/config.md says so). */
export const DEFAULTS = deepFreeze({
  listen: { host: '0.0.0.0', port: 8080 },
  admin: { host: '127.0.0.1', port: 9901 },
  timeoutMs: 1000,
  threshold: 0.5,
  bodyBytes: 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  shutdownGraceMs: 10_000,
  shadowLimit: 1024,
  guardrailWindow: 1000,
  guardrailMinSamples: 200,
  controlStatus: 200,
});

const PORT = { integer: true, min: 0, max: 65535 };
const POSITIVE_INT = { integer: true, min: 1 };
/** Sums of fractions such as 0.3 + 0.7 may land a hair above 1 in binary floating point. */
const EPSILON = 1e-9;
// RFC 9110 token characters: what an HTTP method and a header name may contain.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Check a parsed config (YAML/JSON data, variables already substituted) against SPEC 3 and fill in
 * the defaults. Throws one CCR_ERR_CONFIG_INVALID listing every problem (`err.issues`). `sources`
 * names the values that came from the environment: messages name their source, never their text.
 */
export function validateConfig(raw: unknown, sources: EnvSources = NO_SOURCES): Config {
  if (raw === undefined || raw === null) {
    throw configInvalid([{ path: '', message: 'is empty: a config needs at least models and routes' }]);
  }
  const issues: ConfigIssue[] = [];
  const root = new Section({ issues, sources }, raw, '', KEYS.root);
  if (!root.present) throw configInvalid(issues);
  const config = {
    listen: endpoint(root.section('listen', KEYS.listen), DEFAULTS.listen),
    admin: admin(root.section('admin', KEYS.admin)),
    models: models(root),
    routes: routes(root),
    passthrough: root.bool('passthrough', true),
    decision: { threshold: root.section('decision', KEYS.decision).num('threshold', DEFAULTS.threshold) },
    assignment: assignment(root.section('assignment', KEYS.assignment)),
    traffic: traffic(root.section('traffic', KEYS.traffic)),
    control: control(root.section('control', KEYS.control)),
    fallback: root.oneOf('fallback', ['champion', 'none'], 'champion'),
    mode: root.oneOf('mode', ['normal', 'bypass'], 'normal'),
    limits: limits(root.section('limits', KEYS.limits)),
    shutdownGraceMs: root.duration('shutdownGraceMs', DEFAULTS.shutdownGraceMs, 0),
    logging: logging(root.section('logging', KEYS.logging)),
    guardrails: guardrails(root.section('guardrails', KEYS.guardrails)),
    ramp: ramp(root.section('ramp', KEYS.ramp)),
    calibration: calibration(root.section('calibration', KEYS.calibration)),
  };
  crossChecks(root, config);
  if (issues.length > 0) throw configInvalid(inSectionOrder(issues));
  // Every read succeeded, so no required value is undefined; optional sections that were not given
  // are dropped here so that they stay absent (and out of the config id).
  return deepFreeze(compact(config)) as Config;
}

function endpoint(s: Section, def: { host: string; port: number }) {
  return { host: s.str('host', def.host, true), port: s.num('port', def.port, PORT) };
}

function admin(s: Section) {
  // No tokenEnv means no token: the admin mutations then answer 403 (SPEC 7).
  return { ...endpoint(s, DEFAULTS.admin), tokenEnv: s.str('tokenEnv', undefined, true) };
}

function models(root: Section) {
  const s = root.section('models', KEYS.models);
  if (root.has('models') && !s.present) return {}; // not a mapping: already reported
  return { champion: model(s, 'champion'), challenger: model(s, 'challenger') };
}

function model(parent: Section, role: string): Partial<ModelConfig> {
  if (!parent.has(role)) return parent.problem(parent.at(role), 'is required') ?? {};
  const s = parent.section(role, KEYS.model);
  if (!s.present) return {}; // not a mapping: already reported
  const url = s.str('url', REQUIRED);
  return {
    url: url === undefined ? undefined : checkUrl(s, url),
    version: s.str('version', REQUIRED, true),
    timeoutMs: s.duration('timeoutMs', DEFAULTS.timeoutMs, 1),
    threshold: s.num('threshold'),
  };
}

function checkUrl(s: Section, url: string): string | undefined {
  const p = s.at('url');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return s.problem(p, `must be an http(s) URL, got ${s.quote(url, p)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return s.problem(p, `must be an http(s) URL, got ${s.quote(url, p)}`);
  // The raw string is checked too: `new URL` drops an empty "?" or "#", but the user still wrote one.
  if (u.username !== '' || u.password !== '' || /^[a-z]+:\/\/[^/?#]*@/i.test(url)) return s.problem(p, 'must not carry credentials');
  if (u.search !== '' || url.includes('?')) return s.problem(p, 'must not carry a query');
  if (u.hash !== '' || url.includes('#')) return s.problem(p, 'must not carry a fragment');
  return url;
}

function routes(root: Section): Partial<RouteConfig>[] | undefined {
  const list = root.list('routes', REQUIRED);
  if (list === undefined) return undefined;
  if (list.length === 0) return root.problem('routes', 'must list at least one route');
  const seen = new Map<string, number>();
  return list.map((item, i) => {
    const path = joinPath('routes', i);
    const r = route(root.sub(item, path, KEYS.route));
    if (r.method !== undefined && r.path !== undefined) {
      const key = JSON.stringify([r.method, r.path]);
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else root.problem(path, `duplicates routes[${first}] (${root.bare(r.method, joinPath(path, 'method'))} ${root.bare(r.path, joinPath(path, 'path'))})`);
    }
    return r;
  });
}

function route(s: Section): Partial<RouteConfig> {
  if (!s.present) return {}; // not a mapping: already reported
  const method = s.str('method', 'POST', true);
  if (method !== undefined && !TOKEN.test(method)) s.problem(s.at('method'), `must be an HTTP method, got ${s.quote(method, s.at('method'))}`);
  const path = s.str('path', REQUIRED);
  if (path !== undefined && !path.startsWith('/')) s.problem(s.at('path'), 'must start with "/"');
  else if (path !== undefined && /[?#]/.test(path)) s.problem(s.at('path'), 'must not carry a query or fragment (matching ignores the query)');
  const score = s.pointer('score');
  const preset = s.oneOf('preset', ['kserve-v2', 'tfserving', 'mlflow']);
  if (s.has('score') === s.has('preset')) s.problem(s.path, 'needs exactly one of score or preset');
  return { method: method?.toUpperCase(), path, score, preset };
}

function assignment(s: Section) {
  return { unit: unit(s), salt: s.str('salt', ''), seed: seed(s) };
}

function unit(s: Section): string | undefined {
  const spec = s.str('unit', 'none');
  if (spec === undefined || spec === 'none') return spec;
  const p = s.at('unit');
  const colon = spec.indexOf(':');
  const kind = spec.slice(0, colon);
  const rest = spec.slice(colon + 1);
  if (kind === 'header' || kind === 'query') {
    if (rest === '') return s.problem(p, `needs a name after "${kind}:", as in ${kind}:${kind === 'header' ? 'x-user-id' : 'user'}`);
    if (kind === 'header' && !TOKEN.test(rest)) {
      const name = s.source(p) === undefined ? `header name ${JSON.stringify(rest)}` : `the header name in ${s.quote(spec, p)}`;
      return s.problem(p, `${name} is not a valid HTTP header name`);
    }
    // Node lower-cases incoming header names, so the lookup key must be lower case too.
    return kind === 'header' ? `header:${rest.toLowerCase()}` : spec;
  }
  if (kind === 'body') return s.checkPointer(rest, p, true) === undefined ? undefined : spec;
  return s.problem(p, `must be header:NAME, query:NAME, body:/json/pointer or none, got ${s.quote(spec, p)}`);
}

function seed(s: Section): string | number | undefined {
  const v = s.raw('seed');
  if (v === undefined || typeof v === 'string') return v;
  if (typeof v === 'number') return s.checkNumber(v, s.at('seed'), {});
  return s.problem(s.at('seed'), `must be a string or a number, got ${s.describe(v, s.at('seed'))}`);
}

function traffic(s: Section) {
  return {
    control: s.fraction('control', 0),
    challenger: s.fraction('challenger', 0),
    shadow: s.bool('shadow', true),
    shadowLimit: s.num('shadowLimit', DEFAULTS.shadowLimit, { integer: true, min: 0 }),
  };
}

function control(s: Section) {
  const patch = s.has('patch') && !isMapping(s.raw('patch'))
    ? s.problem(s.at('patch'), `must be a mapping (a JSON Merge Patch object), got ${s.describe(s.raw('patch'), s.at('patch'))}`)
    : s.json('patch');
  const r = s.section('response', KEYS.response);
  const response = r.present
    ? { status: r.num('status', DEFAULTS.controlStatus, { integer: true, min: 100, max: 599 }), body: r.json('body') }
    : undefined;
  if (s.has('patch') && s.has('response')) s.problem(s.path, 'use either patch or response, not both');
  return { patch, response };
}

function limits(s: Section) {
  return {
    bodyBytes: s.size('bodyBytes', DEFAULTS.bodyBytes),
    headersTimeoutMs: s.duration('headersTimeoutMs', DEFAULTS.headersTimeoutMs, 1),
    requestTimeoutMs: s.duration('requestTimeoutMs', DEFAULTS.requestTimeoutMs, 1),
  };
}

function logging(s: Section) {
  const f = s.section('fields', null);
  const fields: Record<string, string | undefined> = {};
  for (const key of f.keys()) {
    // defineProperty: a field named "__proto__" must stay a field.
    Object.defineProperty(fields, key, { value: f.pointer(key), enumerable: true, writable: true, configurable: true });
  }
  const redact = s.list('redact', [])?.map((p, i) => s.checkPointer(p, joinPath(s.at('redact'), i), true));
  const r = s.section('rotate', KEYS.rotate);
  return {
    dir: s.str('dir', './logs', true),
    unit: s.oneOf('unit', ['raw', 'hash', 'omit'], 'raw'),
    fields,
    bodies: s.bool('bodies', false),
    redact,
    rotate: r.present ? { size: r.size('size', REQUIRED), keep: r.num('keep', undefined, POSITIVE_INT) } : undefined,
  };
}

function guardrails(s: Section) {
  if (!s.present) return undefined;
  const ratio = { gt: 0 };
  return {
    window: s.num('window', DEFAULTS.guardrailWindow, POSITIVE_INT),
    minSamples: s.num('minSamples', DEFAULTS.guardrailMinSamples, POSITIVE_INT),
    // An absent limit turns its rule off.
    maxErrorRate: s.fraction('maxErrorRate'),
    maxLatencyP99Ratio: s.num('maxLatencyP99Ratio', undefined, ratio),
    maxDecisionRateRatio: s.num('maxDecisionRateRatio', undefined, ratio),
    maxScorePsi: s.num('maxScorePsi', undefined, { min: 0 }),
    action: s.oneOf('action', ['rollback', 'alert'], 'rollback'),
  };
}

function ramp(s: Section) {
  if (!s.present) return undefined;
  const list = s.list('steps', REQUIRED);
  if (list !== undefined && list.length === 0) s.problem(s.at('steps'), 'must list at least one step');
  const steps = list?.map((v, i) => s.checkNumber(v, joinPath(s.at('steps'), i), { min: 0, max: 1 }));
  steps?.forEach((v, i) => {
    const before = i > 0 ? steps[i - 1] : undefined;
    if (v !== undefined && before !== undefined && v <= before) {
      s.problem(joinPath(s.at('steps'), i), `must be greater than the step before (${s.quote(before, joinPath(s.at('steps'), i - 1))}): steps only go up`);
    }
  });
  return { steps, every: s.duration('every', REQUIRED, 1) };
}

function calibration(s: Section) {
  if (!s.present) return undefined;
  return { file: s.str('file', REQUIRED, true), inject: s.pointer('inject', undefined, true) };
}

type Draft = {
  listen: ReturnType<typeof endpoint>;
  admin: ReturnType<typeof admin>;
  traffic: ReturnType<typeof traffic>;
  limits: ReturnType<typeof limits>;
  guardrails: ReturnType<typeof guardrails>;
  ramp: ReturnType<typeof ramp>;
};

/** Rules across fields; each runs only when the fields it needs are valid. Values are quoted by path. */
function crossChecks(root: Section, c: Draft): void {
  const q = (path: string, value: unknown) => root.quote(value, path);
  const { control, challenger } = c.traffic;
  if (control !== undefined && challenger !== undefined && control + challenger > 1 + EPSILON) {
    root.problem('traffic.challenger', `traffic.control + traffic.challenger must be <= 1, got ${q('traffic.control', control)} + ${q('traffic.challenger', challenger)}`);
  }
  c.ramp?.steps?.forEach((step, i) => {
    if (control !== undefined && step !== undefined && control + step > 1 + EPSILON) {
      root.problem(`ramp.steps[${i}]`, `traffic.control + a ramp step must be <= 1, got ${q('traffic.control', control)} + ${q(`ramp.steps[${i}]`, step)}`);
    }
  });
  const { headersTimeoutMs: headers, requestTimeoutMs: request } = c.limits;
  if (headers !== undefined && request !== undefined && headers > request) {
    root.problem('limits.headersTimeoutMs', `must be <= limits.requestTimeoutMs (${q('limits.requestTimeoutMs', request)}), got ${q('limits.headersTimeoutMs', headers)}`);
  }
  const g = c.guardrails;
  if (g?.window !== undefined && g.minSamples !== undefined && g.minSamples > g.window) {
    root.problem('guardrails.minSamples', `must be <= guardrails.window (${q('guardrails.window', g.window)}): the window never holds more`);
  }
  if (c.admin.port !== undefined && c.admin.port !== 0 && c.admin.port === c.listen.port && sameInterface(c.admin.host, c.listen.host)) {
    root.problem('admin.port', `must differ from listen.port (${q('listen.port', c.listen.port)}) on the same host`);
  }
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

function sameInterface(a: string | undefined, b: string | undefined): boolean {
  return a === undefined || b === undefined || a === b || WILDCARDS.has(a) || WILDCARDS.has(b);
}

/** Cross-field problems are found last; list them with their section (stable sort, unknown keys first). */
function inSectionOrder(issues: ConfigIssue[]): ConfigIssue[] {
  const rank = (i: ConfigIssue) => (KEYS.root as readonly string[]).indexOf(/^[^.[]*/.exec(i.path)![0]);
  // Ranked once per issue, not once per comparison: a hostile config may hold thousands.
  return issues.map((issue, i) => ({ issue, rank: rank(issue), i }))
    .sort((a, b) => a.rank - b.rank || a.i - b.i)
    .map((r) => r.issue);
}

/** Drop undefined keys recursively, so optional values not given stay absent. */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (!isMapping(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== undefined) Object.defineProperty(out, k, { value: compact(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Freeze `value` and everything inside it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
