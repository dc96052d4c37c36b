import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, loadConfigObject, parseConfigText, substituteEnv } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/schema.js';
import { assertLine, invalid, minimal } from './helpers.js';

const EXAMPLE = fileURLToPath(new URL('../../config/ccrouter.yaml', import.meta.url));

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ccrouter-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const MINIMAL_YAML = `
models:
  champion: { url: "\${CHAMPION_URL}", version: v1 }
  challenger: { url: http://127.0.0.1:9002, version: v2 }
routes:
  - { path: /predict, score: /score }
`;

test('substituteEnv: ${NAME} inside strings is replaced', () => {
  const out = substituteEnv({ a: 'http://${HOST}:${PORT}/v1', b: ['x-${HOST}'], c: 5, d: true }, { HOST: 'h', PORT: '9001' });
  assert.deepEqual(out, { a: 'http://h:9001/v1', b: ['x-h'], c: 5, d: true });
});

test('substituteEnv: a value that is exactly "${NAME}" is read again as a YAML scalar', () => {
  const env = { PORT: '8080', ON: 'true', RATE: '0.25', NIL: '~', TEXT: 'fraud-v8', EMPTY: '', LIST: '[1, 2]', HASH: 'a #b', QUOTED: '"x"' };
  const raw = Object.fromEntries(Object.keys(env).map((k) => [k, `\${${k}}`]));
  assert.deepEqual(substituteEnv(raw, env), {
    PORT: 8080, ON: true, RATE: 0.25, NIL: null, TEXT: 'fraud-v8', EMPTY: '', LIST: '[1, 2]', HASH: 'a #b', QUOTED: '"x"',
  });
  // inside a longer string there is no re-read
  assert.deepEqual(substituteEnv({ p: 'port ${PORT}' }, env), { p: 'port 8080' });
});

test('substituteEnv: so `port: "${PORT}"` validates as a number', () => {
  const raw = { ...minimal(), listen: { port: '${PORT}' } };
  assert.equal(loadConfigObject(raw, { PORT: '8081' }).config.listen.port, 8081);
});

test('substituteEnv: every unset variable is an error naming its path', () => {
  const raw = { listen: { port: '${PORT}' }, routes: [{ path: '/${PREFIX}/predict' }] };
  const { issues, message } = invalid(() => substituteEnv(raw, {}));
  assert.deepEqual(issues, [
    { path: 'listen.port', message: 'environment variable PORT is not set' },
    { path: 'routes[0].path', message: 'environment variable PREFIX is not set' },
  ]);
  assertLine(message, 'listen.port: environment variable PORT is not set');
});

test('substituteEnv: $${ is a literal ${, malformed references are errors, raw is not changed', () => {
  const raw = { salt: 'a$${HOME}b', bad: '${PORT:-80}' };
  assert.deepEqual(substituteEnv({ salt: raw.salt }, {}), { salt: 'a${HOME}b' });
  assert.deepEqual(invalid(() => substituteEnv(raw, { PORT: '1' })).issues, [
    { path: 'bad', message: '${PORT:-80} is not a variable reference: names use letters, digits and _ (write $${ for a literal ${)' },
  ]);
  assert.equal(raw.salt, 'a$${HOME}b');
});

test('loadConfigObject without env takes strings as they are', () => {
  const raw = minimal();
  raw.assignment = { salt: '${NOT_SUBSTITUTED}' };
  assert.equal(loadConfigObject(raw).config.assignment.salt, '${NOT_SUBSTITUTED}');
});

test('parseConfigText: YAML and JSON; syntax errors name the file and line', () => {
  assert.deepEqual(parseConfigText('a: 1\nb: [x, y]\n', 'c.yaml'), { a: 1, b: ['x', 'y'] });
  assert.deepEqual(parseConfigText('{\n\t"a": {"b": [1, 2]}\n}\n', 'c.json'), { a: { b: [1, 2] } });
  const cases: Array<[string, RegExp]> = [
    ['a: 1\nb: [1,\n c: 2\n', /^cannot parse config \/x\/c\.yaml at line 4, column 1: /],
    ['a: 1\na: 2\n', /^cannot parse config \/x\/c\.yaml at line 2, column 1: Map keys must be unique$/],
    ['a: !env PORT\n', /^cannot parse config \/x\/c\.yaml at line 1, column 4: Unresolved tag: !env$/],
    ['a: *nothing\n', /^cannot parse config \/x\/c\.yaml at line 1, column 4: unresolved alias \*nothing /],
    ['a: 1\n---\nb: 2\n', /^cannot parse config \/x\/c\.yaml at line 2, column 1: Source contains multiple documents/],
    ['{a: 1, a: 2}', /^cannot parse config \/x\/c\.yaml at line 1, column 8: Map keys must be unique$/],
    ['a: &x [1, *x]\n', /^cannot parse config \/x\/c\.yaml at line 1, column 11: alias \*x is inside the node it names$/],
    ['? [a]\n: 1\n', /^cannot parse config \/x\/c\.yaml at line 1, column 3: a mapping key must be a plain value/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseConfigText(text, '/x/c.yaml'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'CCR_ERR_CONFIG_READ');
      assert.match(err.message, message);
      return true;
    }, text);
  }
});

test('loadConfigFile: reads, substitutes, validates; file is the absolute path', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'c.yaml');
  writeFileSync(file, MINIMAL_YAML);
  const loaded = loadConfigFile(file, { CHAMPION_URL: 'http://10.0.0.1:9001' });
  assert.equal(loaded.file, resolve(file));
  assert.equal(loaded.config.models.champion.url, 'http://10.0.0.1:9001');
  assert.match(loaded.id, /^[0-9a-f]{12}$/);
  assert.equal(loaded.id, loadConfigObject(loaded.config).id, 'loading the effective config again gives the same id');
});

test('loadConfigFile: a missing file is CCR_ERR_CONFIG_READ naming it', (t) => {
  const file = join(tempDir(t), 'nope.yaml');
  assert.throws(() => loadConfigFile(file, {}), { code: 'CCR_ERR_CONFIG_READ', message: `cannot read config ${file}: no such file` });
});

test('loadConfigFile: invalid content names the file and each path', (t) => {
  const file = join(tempDir(t), 'bad.yaml');
  writeFileSync(file, `${MINIMAL_YAML}traffic: { challenger: 1.5 }\nmode: off\n`);
  const { issues, message } = invalid(() => loadConfigFile(file, {}));
  assert.deepEqual(issues.map((i) => i.path), ['models.champion.url']);
  assert.equal(message, `invalid config ${file} (1 problem):\nmodels.champion.url: environment variable CHAMPION_URL is not set`);
  const second = invalid(() => loadConfigFile(file, { CHAMPION_URL: 'http://h:1' }));
  assert.equal(second.message, [
    `invalid config ${file} (2 problems):`,
    'traffic.challenger: must be <= 1',
    'mode: must be one of normal, bypass, got string "off"',
  ].join('\n'));
});

test('the example config/ccrouter.yaml is valid and documents the SPEC 3 example', () => {
  const { config, file } = loadConfigFile(EXAMPLE, {});
  assert.equal(file, EXAMPLE);
  assert.equal(config.models.challenger.threshold, 0.6);
  assert.equal(config.assignment.unit, 'header:x-user-id');
  assert.deepEqual(config.traffic, { control: 0.05, challenger: 0.1, shadow: true, shadowLimit: 1024 });
  assert.deepEqual(config.limits, { bodyBytes: 1048576, responseBytes: 16777216, headersTimeoutMs: 10000, requestTimeoutMs: 30000 });
  assert.deepEqual({ ...config.models.challenger.paths }, { '/v2/models/fraud/infer': '/v2/models/fraud-v8/infer' });
  assert.deepEqual({ ...config.guardrails?.actions }, { decision_rate_ratio: 'alert' });
  assert.deepEqual(config.ramp, { steps: [0.01, 0.05, 0.1, 0.3], every: 600000 });
  assert.equal(config.logging.rotate?.size, 100 * 1024 * 1024);
  for (const key of ['guardrails', 'ramp'] as const) assert.ok(config[key], key);
  // every top-level key appears in the example (calibration commented out: its table must exist first)
  assert.deepEqual(Object.keys(config), [
    'listen', 'admin', 'models', 'routes', 'passthrough', 'decision', 'assignment', 'traffic', 'control', 'fallback',
    'mode', 'limits', 'shutdownGraceMs', 'shutdownDelayMs', 'logging', 'guardrails', 'ramp',
  ]);
  assert.match(readFileSync(EXAMPLE, 'utf8'), /^# calibration:\n# {3}file: config\/calibration\.json$/m);
  // and it is its own fixed point: validating the effective config changes nothing
  assert.deepEqual(validateConfig(config), config);
});

test('the minimal and the full example in docs/config.md are valid', () => {
  const doc = readFileSync(fileURLToPath(new URL('../../docs/config.md', import.meta.url)), 'utf8');
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => /^routes:/m.test(b));
  // The minimal example first, the full one last; the per-model-server examples between them are valid too.
  assert.ok(blocks.length >= 6, 'the minimal, KServe v2, TF Serving, MLflow, plain JSON and full examples');
  const loaded = blocks.map((b) => loadConfigObject(parseConfigText(b, 'docs/config.md'), { KSERVE_TOKEN: 't', MLFLOW_TOKEN: 't', SCORING_API_KEY: 'k' }));
  const [minimalDoc, full] = [loaded[0], loaded.at(-1)];
  assert.deepEqual(Object.keys(minimalDoc!.config.models), ['champion', 'challenger']);
  // the full example in the docs is the example file, comments aside
  assert.equal(full!.id, loadConfigFile(EXAMPLE, {}).id);
});
