import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateConfig } from '../../src/config/schema.js';
import { assertLine, invalid, minimal, testRejections, type RejectionCase } from './helpers.js';

/** Each case: a change to the minimal config and the exact `path: problem` line it must produce. */
const CASES: RejectionCase[] = [
  // unknown keys, at every level
  ['unknown root key', (c) => { c.foo = 1; }, 'foo: unknown key'],
  ['unknown guardrails key', (c) => { c.guardrails = { foo: 1 }; }, 'guardrails.foo: unknown key'],
  ['unknown model key, typo hint', (c) => { c.models.champion.urll = 'x'; }, 'models.champion.urll: unknown key (did you mean url?)'],
  ['unknown listen key, swapped letters', (c) => { c.listen = { prot: 1 }; }, 'listen.prot: unknown key (did you mean port?)'],
  ['unknown model role', (c) => { c.models.shadow = {}; }, 'models.shadow: unknown key'],
  ['unknown route key', (c) => { c.routes[0].scroe = '/s'; delete c.routes[0].score; },
    'routes[0].scroe: unknown key (did you mean score?)', 'routes[0]: needs exactly one of score or preset'],
  ['unknown rotate key', (c) => { c.logging = { rotate: { size: 10, every: '1h' } }; }, 'logging.rotate.every: unknown key'],
  ['unknown control.response key', (c) => { c.control = { response: { status: 200, headers: {} } }; }, 'control.response.headers: unknown key'],
  ['__proto__ is just an unknown key', (c) => { Object.defineProperty(c, '__proto__', { value: {}, enumerable: true }); }, '__proto__: unknown key'],

  // wrong types
  ['port as a string', (c) => { c.listen = { port: '8080' }; }, 'listen.port: must be a number, got string "8080"'],
  ['boolean as a string', (c) => { c.traffic = { shadow: 'yes' }; }, 'traffic.shadow: must be true or false, got string "yes"'],
  ['routes as a mapping', (c) => { c.routes = {}; }, 'routes: must be a list, got a mapping'],
  ['model as a string', (c) => { c.models.champion = 'http://x'; }, 'models.champion: must be a mapping, got string "http://x"'],
  ['route as a string', (c) => { c.routes = ['/predict']; }, 'routes[0]: must be a mapping, got string "/predict"'],
  ['redact as a string', (c) => { c.logging = { redact: '/ssn' }; }, 'logging.redact: must be a list, got string "/ssn"'],
  ['seed as a boolean', (c) => { c.assignment = { seed: true }; }, 'assignment.seed: must be a string or a number, got boolean true'],
  ['null threshold', (c) => { c.decision = { threshold: null }; }, 'decision.threshold: must be a number, got null'],
  ['NaN fraction', (c) => { c.traffic = { control: NaN }; }, 'traffic.control: must be a finite number, got NaN'],
  ['section as a list', (c) => { c.traffic = [0.1]; }, 'traffic: must be a mapping, got a list'],
  ['salt as a number', (c) => { c.assignment = { salt: 42 }; }, 'assignment.salt: must be a string, got number 42'],

  // required keys
  ['no models', (c) => { delete c.models; }, 'models.champion: is required', 'models.challenger: is required'],
  ['no url', (c) => { delete c.models.champion.url; }, 'models.champion.url: is required'],
  ['no version', (c) => { delete c.models.challenger.version; }, 'models.challenger.version: is required'],
  ['empty version', (c) => { c.models.challenger.version = ''; }, 'models.challenger.version: must not be empty'],
  ['no routes', (c) => { delete c.routes; }, 'routes: is required'],
  ['empty routes', (c) => { c.routes = []; }, 'routes: must list at least one route'],
  ['route with both', (c) => { c.routes[0].preset = 'mlflow'; }, 'routes[0]: needs exactly one of score or preset'],
  ['second route with neither', (c) => { c.routes.push({ path: '/b' }); }, 'routes[1]: needs exactly one of score or preset'],
  ['route without path', (c) => { delete c.routes[0].path; }, 'routes[0].path: is required'],

  // fractions and their sums
  ['challenger above 1', (c) => { c.traffic = { challenger: 1.5 }; }, 'traffic.challenger: must be <= 1'],
  ['control below 0', (c) => { c.traffic = { control: -0.1 }; }, 'traffic.control: must be >= 0'],
  ['error rate above 1', (c) => { c.guardrails = { maxErrorRate: 2 }; }, 'guardrails.maxErrorRate: must be <= 1'],
  ['control + challenger > 1', (c) => { c.traffic = { control: 0.6, challenger: 0.5 }; },
    'traffic.challenger: traffic.control + traffic.challenger must be <= 1, got 0.6 + 0.5'],
  ['control + a ramp step > 1', (c) => { c.traffic = { control: 0.2 }; c.ramp = { steps: [0.5, 0.9], every: '1m' }; },
    'ramp.steps[1]: traffic.control + a ramp step must be <= 1, got 0.2 + 0.9'],

  // control
  ['patch and response', (c) => { c.control = { patch: { a: 1 }, response: { status: 200 } }; }, 'control: use either patch or response, not both'],
  ['patch not a mapping', (c) => { c.control = { patch: [1] }; }, 'control.patch: must be a mapping (a JSON Merge Patch object), got a list'],
  ['response status too low', (c) => { c.control = { response: { status: 99 } }; }, 'control.response.status: must be >= 100'],
  ['response status too high', (c) => { c.control = { response: { status: 600 } }; }, 'control.response.status: must be <= 599'],
  ['response body with a non-finite number', (c) => { c.control = { response: { body: { a: [Infinity] } } }; },
    'control.response.body.a[0]: must be a finite number, got Infinity'],

  // model URLs
  ['ftp URL', (c) => { c.models.champion.url = 'ftp://h/x'; }, 'models.champion.url: must be an http(s) URL, got "ftp://h/x"'],
  ['not a URL', (c) => { c.models.champion.url = '127.0.0.1:9001'; }, 'models.champion.url: must be an http(s) URL, got "127.0.0.1:9001"'],
  ['URL with credentials', (c) => { c.models.challenger.url = 'http://user:pw@h:1/'; }, 'models.challenger.url: must not carry credentials'],
  ['URL with a user only', (c) => { c.models.challenger.url = 'https://user@h/'; }, 'models.challenger.url: must not carry credentials'],
  ['URL with a query', (c) => { c.models.challenger.url = 'http://h/v1?key=1'; }, 'models.challenger.url: must not carry a query'],
  ['URL with an empty query', (c) => { c.models.challenger.url = 'http://h/v1?'; }, 'models.challenger.url: must not carry a query'],
  ['URL with a fragment', (c) => { c.models.challenger.url = 'http://h/v1#x'; }, 'models.challenger.url: must not carry a fragment'],

  // limits
  ['headers timeout above request timeout', (c) => { c.limits = { headersTimeoutMs: '40s' }; },
    'limits.headersTimeoutMs: must be <= limits.requestTimeoutMs (30000), got 40000'],
  ['zero body limit', (c) => { c.limits = { bodyBytes: 0 }; }, 'limits.bodyBytes: must be >= 1'],

  // enums
  ['fallback', (c) => { c.fallback = 'challenger'; }, 'fallback: must be one of champion, none, got string "challenger"'],
  ['mode', (c) => { c.mode = 'off'; }, 'mode: must be one of normal, bypass, got string "off"'],
  ['logging.unit', (c) => { c.logging = { unit: 'sha' }; }, 'logging.unit: must be one of raw, hash, omit, got string "sha"'],
  ['preset', (c) => { c.routes[0] = { path: '/p', preset: 'torchserve' }; },
    'routes[0].preset: must be one of kserve-v2, tfserving, mlflow, got string "torchserve"'],
  ['guardrails.action', (c) => { c.guardrails = { action: 'page' }; }, 'guardrails.action: must be one of rollback, alert, got string "page"'],

  // JSON pointers
  ['route score', (c) => { c.routes[0].score = 'score'; }, 'routes[0].score: must be a JSON Pointer starting with "/", got "score"'],
  ['logging field', (c) => { c.logging = { fields: { country: 'country' } }; },
    'logging.fields.country: must be a JSON Pointer starting with "/", got "country"'],
  ['redact pointer with a bad escape', (c) => { c.logging = { redact: ['/ok', '/a~2'] }; },
    'logging.redact[1]: invalid escape in JSON Pointer "/a~2" ("~" must be followed by 0 or 1)'],
  ['redact the whole body', (c) => { c.logging = { redact: [''] }; }, 'logging.redact[0]: must be a JSON Pointer starting with "/", got ""'],
  ['body unit pointer', (c) => { c.assignment = { unit: 'body:user' }; }, 'assignment.unit: must be a JSON Pointer starting with "/", got "user"'],
  ['calibration.inject', (c) => { c.calibration = { file: 'c.json', inject: 'score' }; },
    'calibration.inject: must be a JSON Pointer starting with "/", got "score"'],

  // assignment.unit forms
  ['unit kind', (c) => { c.assignment = { unit: 'cookie:sid' }; },
    'assignment.unit: must be header:NAME, query:NAME, body:/json/pointer or none, got "cookie:sid"'],
  ['header without a name', (c) => { c.assignment = { unit: 'header:' }; }, 'assignment.unit: needs a name after "header:", as in header:x-user-id'],
  ['query without a name', (c) => { c.assignment = { unit: 'query:' }; }, 'assignment.unit: needs a name after "query:", as in query:user'],
  ['header name with a space', (c) => { c.assignment = { unit: 'header:x user' }; },
    'assignment.unit: header name "x user" is not a valid HTTP header name'],

  // ports, timeouts, counts
  ['port too high', (c) => { c.listen = { port: 70000 }; }, 'listen.port: must be <= 65535'],
  ['port negative', (c) => { c.admin = { port: -1 }; }, 'admin.port: must be >= 0'],
  ['port not an integer', (c) => { c.admin = { port: 1.5 }; }, 'admin.port: must be an integer, got 1.5'],
  ['admin on the public port', (c) => { c.listen = { port: 9000 }; c.admin = { port: 9000 }; },
    'admin.port: must differ from listen.port (9000) on the same host'],
  ['zero model timeout', (c) => { c.models.champion.timeoutMs = 0; }, 'models.champion.timeoutMs: must be >= 1'],
  ['fractional model timeout', (c) => { c.models.champion.timeoutMs = '1.5ms'; },
    'models.champion.timeoutMs: must be a whole number of milliseconds, got "1.5ms"'],
  ['negative shutdownDelayMs', (c) => { c.shutdownDelayMs = -1; }, 'shutdownDelayMs: must be a duration (milliseconds, or a string like 250ms, 10s, 10m, 1h), got -1'],
  ['shutdownDelayMs over an hour', (c) => { c.shutdownDelayMs = '2h'; }, 'shutdownDelayMs: must be <= 1h, got 7200000 ms'],
  ['shutdownDelayMs not a duration', (c) => { c.shutdownDelayMs = 'later'; },
    'shutdownDelayMs: must be a duration (milliseconds, or a string like 250ms, 10s, 10m, 1h), got "later"'],
  ['timeout that is not a duration', (c) => { c.limits = { requestTimeoutMs: 'soon' }; },
    'limits.requestTimeoutMs: must be a duration (milliseconds, or a string like 250ms, 10s, 10m, 1h), got "soon"'],
  ['negative shadowLimit', (c) => { c.traffic = { shadowLimit: -1 }; }, 'traffic.shadowLimit: must be >= 0'],
  ['fractional shadowLimit', (c) => { c.traffic = { shadowLimit: 1.5 }; }, 'traffic.shadowLimit: must be an integer, got 1.5'],
  ['zero guardrail window', (c) => { c.guardrails = { window: 0 }; }, 'guardrails.window: must be >= 1'],
  ['minSamples above window', (c) => { c.guardrails = { window: 100 }; },
    'guardrails.minSamples: must be <= guardrails.window (100): the window never holds more'],
  ['zero latency ratio', (c) => { c.guardrails = { maxLatencyP99Ratio: 0 }; }, 'guardrails.maxLatencyP99Ratio: must be > 0'],
  ['rotate keep 0', (c) => { c.logging = { rotate: { size: '1m', keep: 0 } }; }, 'logging.rotate.keep: must be >= 1'],
  ['rotate without size', (c) => { c.logging = { rotate: { keep: 3 } }; }, 'logging.rotate.size: is required'],

  // ramp
  ['ramp steps going down', (c) => { c.ramp = { steps: [0.1, 0.05], every: '1m' }; },
    'ramp.steps[1]: must be greater than the step before (0.1): steps only go up'],
  ['ramp step equal to the one before', (c) => { c.ramp = { steps: [0.1, 0.1], every: '1m' }; },
    'ramp.steps[1]: must be greater than the step before (0.1): steps only go up'],
  ['ramp step above 1', (c) => { c.ramp = { steps: [0.1, 1.2], every: '1m' }; }, 'ramp.steps[1]: must be <= 1'],
  ['ramp without steps', (c) => { c.ramp = { steps: [], every: '1m' }; }, 'ramp.steps: must list at least one step'],
  ['ramp without every', (c) => { c.ramp = { steps: [0.1] }; }, 'ramp.every: is required'],

  // routes
  ['bad method', (c) => { c.routes[0].method = 'PO ST'; }, 'routes[0].method: must be an HTTP method, got "PO ST"'],
  ['path without slash', (c) => { c.routes[0].path = 'predict'; }, 'routes[0].path: must start with "/"'],
  ['path with a query', (c) => { c.routes[0].path = '/predict?x=1'; },
    'routes[0].path: must not carry a query or fragment (matching ignores the query)'],
  ['duplicate route after upper-casing', (c) => { c.routes.push({ method: 'post', path: '/predict', preset: 'mlflow' }); },
    'routes[1]: duplicates routes[0] (POST /predict)'],

  // calibration
  ['calibration without file', (c) => { c.calibration = { inject: '/n' }; }, 'calibration.file: is required'],
];

describe('validateConfig rules', () => {
  testRejections(CASES, validateConfig);

  test('every problem is reported at once, one per line, under a count', () => {
    const raw = minimal();
    raw.traffic = { challenger: 2 };
    raw.models.challenger.url = 'http://u:p@h/';
    raw.guardrails = { foo: 1 };
    const { issues, message } = invalid(() => validateConfig(raw));
    assert.deepEqual(issues, [
      { path: 'models.challenger.url', message: 'must not carry credentials' },
      { path: 'traffic.challenger', message: 'must be <= 1' },
      { path: 'guardrails.foo', message: 'unknown key' },
    ]);
    assert.equal(message, [
      'invalid config (3 problems):',
      'models.challenger.url: must not carry credentials',
      'traffic.challenger: must be <= 1',
      'guardrails.foo: unknown key',
    ].join('\n'));
  });

  test('an empty document and a non-mapping root are refused without noise', () => {
    assert.deepEqual(invalid(() => validateConfig(null)).issues,
      [{ path: '', message: 'is empty: a config needs at least models and routes' }]);
    const { issues, message } = invalid(() => validateConfig([1]));
    assert.deepEqual(issues, [{ path: '', message: 'must be a mapping, got a list' }]);
    assertLine(message, '(root): must be a mapping, got a list');
  });

  test('control + challenger at exactly 1 passes despite binary rounding (0.3 + 0.7)', () => {
    const raw = minimal();
    raw.traffic = { control: 0.3, challenger: 0.7 };
    raw.ramp = { steps: [0.1, 0.7], every: '1m' };
    assert.equal(validateConfig(raw).traffic.challenger, 0.7);
  });

  test('the same port on different hosts is fine', () => {
    const raw = minimal();
    raw.listen = { host: '10.0.0.5', port: 9000 };
    raw.admin = { host: '127.0.0.1', port: 9000 };
    assert.equal(validateConfig(raw).admin.port, 9000);
  });
});

describe('validateConfig defaults and normalization', () => {
  test('a minimal config gets every default (SPEC 3)', () => {
    assert.deepEqual(validateConfig(minimal()), {
      listen: { host: '0.0.0.0', port: 8080 },
      admin: { host: '127.0.0.1', port: 9901 },
      models: {
        champion: { url: 'http://127.0.0.1:9001', version: 'v1', timeoutMs: 1000 },
        challenger: { url: 'http://127.0.0.1:9002', version: 'v2', timeoutMs: 1000 },
      },
      routes: [{ method: 'POST', path: '/predict', score: '/score' }],
      passthrough: true,
      decision: { threshold: 0.5 },
      assignment: { unit: 'none', salt: '' },
      traffic: { control: 0, challenger: 0, shadow: true, shadowLimit: 1024 },
      control: {},
      fallback: 'champion',
      mode: 'normal',
      limits: { bodyBytes: 1048576, responseBytes: 16777216, headersTimeoutMs: 10000, requestTimeoutMs: 30000 },
      shutdownGraceMs: 10000,
      shutdownDelayMs: 0,
      logging: { dir: './logs', unit: 'raw', fields: {}, bodies: false, redact: [] },
    });
  });

  test('optional sections stay absent; optional keys are not set to undefined', () => {
    const c = validateConfig(minimal());
    for (const key of ['guardrails', 'ramp', 'calibration']) assert.equal(key in c, false, key);
    assert.equal('rotate' in c.logging, false);
    assert.equal('seed' in c.assignment, false);
    assert.equal('tokenEnv' in c.admin, false);
    assert.equal('threshold' in c.models.champion, false);
    assert.deepEqual(Object.keys(c.control), []);
  });

  test('guardrails given with one rule: window/minSamples/action defaults, other rules off', () => {
    const raw = minimal();
    raw.guardrails = { maxErrorRate: 0.02 };
    assert.deepEqual(validateConfig(raw).guardrails, { window: 1000, minSamples: 200, maxErrorRate: 0.02, action: 'rollback' });
  });

  test('durations and sizes become milliseconds and bytes', () => {
    const raw = minimal();
    raw.models.champion.timeoutMs = '250ms';
    raw.limits = { bodyBytes: '2m', responseBytes: '3m', headersTimeoutMs: '5s', requestTimeoutMs: '1m' };
    raw.shutdownGraceMs = 0;
    raw.shutdownDelayMs = '5s';
    raw.logging = { rotate: { size: '1G', keep: 3 } };
    raw.ramp = { steps: [0.01], every: '1h' };
    const c = validateConfig(raw);
    assert.equal(c.models.champion.timeoutMs, 250);
    assert.deepEqual(c.limits, { bodyBytes: 2 * 1024 ** 2, responseBytes: 3 * 1024 ** 2, headersTimeoutMs: 5000, requestTimeoutMs: 60000 });
    assert.equal(c.shutdownGraceMs, 0);
    assert.equal(c.shutdownDelayMs, 5000);
    assert.deepEqual(c.logging.rotate, { size: 1024 ** 3, keep: 3 });
    assert.equal(c.ramp?.every, 3_600_000);
  });

  test('method upper-cased, header unit lower-cased, other units kept', () => {
    const raw = minimal();
    raw.routes = [{ method: 'put', path: '/a', preset: 'tfserving' }, { method: 'POST', path: '/a', score: '' }];
    raw.assignment = { unit: 'header:X-User-Id', seed: 'abc' };
    const c = validateConfig(raw);
    assert.deepEqual(c.routes.map((r) => r.method), ['PUT', 'POST']);
    assert.equal(c.assignment.unit, 'header:x-user-id');
    assert.equal(c.assignment.seed, 'abc');
    for (const unit of ['query:UserId', 'body:/user/id', 'none']) {
      assert.equal(validateConfig({ ...minimal(), assignment: { unit } }).assignment.unit, unit);
    }
  });

  test('control.response status defaults to 200; patch and body are copied', () => {
    const raw = minimal();
    raw.control = { response: { body: { decision: 'approve' } } };
    assert.deepEqual(validateConfig(raw).control, { response: { status: 200, body: { decision: 'approve' } } });
    const withPatch = minimal();
    withPatch.control = { patch: { decision: 'approve', nested: { a: null } } };
    const c = validateConfig(withPatch);
    assert.deepEqual(c.control.patch, { decision: 'approve', nested: { a: null } });
    assert.notEqual(c.control.patch, withPatch.control.patch);
  });

  test('the result is deep-frozen and the input is left untouched', () => {
    const raw = minimal();
    raw.control = { patch: { a: { b: 1 } } };
    const before = structuredClone(raw);
    const c = validateConfig(raw);
    assert.deepEqual(raw, before);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.routes) && Object.isFrozen(c.routes[0]));
    assert.ok(Object.isFrozen((c.control.patch as { a: object }).a));
    assert.throws(() => { (c.traffic as { challenger: number }).challenger = 1; }, TypeError);
    // the caller's object stays mutable
    raw.control.patch.a.b = 2;
  });

  test('per-model threshold, seed as a number and the admin token variable are kept', () => {
    const raw = minimal();
    raw.models.challenger.threshold = 0.6;
    raw.assignment = { seed: 42 };
    raw.admin = { tokenEnv: 'CCROUTER_ADMIN_TOKEN' };
    const c = validateConfig(raw);
    assert.equal(c.models.challenger.threshold, 0.6);
    assert.equal(c.assignment.seed, 42);
    assert.equal(c.admin.tokenEnv, 'CCROUTER_ADMIN_TOKEN');
  });
});
