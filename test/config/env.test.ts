import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hideEnv, substituteEnvTracked } from '../../src/config/env.js';
import { describe, quote } from '../../src/config/issues.js';
import { loadConfigObject } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/schema.js';
import { parseDuration } from '../../src/config/units.js';
import { invalid, minimal } from './helpers.js';

test('substituteEnvTracked: each substituted value is remembered by path, as written, with its key path', () => {
  const raw = { a: { b: ['x', '${TOKEN}', 'Bearer ${TOKEN}'] }, port: '${PORT}', plain: 'no variable', lit: 'a$${B}' };
  const { value, sources, used } = substituteEnvTracked(raw, { TOKEN: 't0k', PORT: '80' });
  assert.deepEqual(value, { a: { b: ['x', 't0k', 'Bearer t0k'] }, port: 80, plain: 'no variable', lit: 'a${B}' });
  assert.deepEqual([...sources], [
    ['a.b[1]', { written: '${TOKEN}', segments: ['a', 'b', 1] }],
    ['a.b[2]', { written: 'Bearer ${TOKEN}', segments: ['a', 'b', 2] }],
    ['port', { written: '${PORT}', segments: ['port'] }],
  ]);
  assert.deepEqual([...used], [['TOKEN', 't0k'], ['PORT', '80']]);
});

test('substituteEnvTracked: a variable named like an Object property is unset unless the environment has it', () => {
  assert.deepEqual(invalid(() => substituteEnvTracked({ a: '${__proto__}', b: '${toString}' }, {})).issues, [
    { path: 'a', message: 'environment variable __proto__ is not set' },
    { path: 'b', message: 'environment variable toString is not set' },
  ]);
});

test('describe and quote name a value from the environment by its source, never by its text', () => {
  const whole = { written: '${TOKEN}', segments: [] };
  const part = { written: 'Bearer ${TOKEN}', segments: [] };
  assert.equal(describe('s3cret', whole), 'string from ${TOKEN}');
  assert.equal(describe(8080, whole), 'number from ${TOKEN}');
  assert.equal(describe('Bearer s3cret', part), 'string from "Bearer ${TOKEN}"');
  assert.equal(quote('s3cret', whole), 'the value of ${TOKEN}');
  assert.equal(quote('Bearer s3cret', part), 'the value from "Bearer ${TOKEN}"');
  assert.equal(describe('s3cret'), 'string "s3cret"');
  assert.equal(quote(1.5), '1.5');
  assert.throws(() => parseDuration('s3cret', 'x', whole), { message: /^invalid config \(1 problem\):\nx: must be a duration .*, got the value of \$\{TOKEN\}$/ });
});

test('validateConfig: a value from the environment is never quoted, in type, range, enum, URL, pointer and cross-field messages', () => {
  const env = { V: 'env-text-1', U: 'env-text-2', P: 'env-text-3', N: '0.75', W: '50' };
  const raw = {
    ...minimal(),
    models: {
      champion: { url: 'http://127.0.0.1:9001', version: '${V}', threshold: '${V}' },
      challenger: { url: 'ws://${U}', version: 'v2' },
    },
    routes: [{ path: '/predict', score: '${P}' }, { path: '/predict', score: '/s', method: 'POST' }],
    mode: '${V}',
    traffic: { control: '${N}', challenger: '${N}' },
    guardrails: { window: '${W}', minSamples: 60 },
  };
  const { message } = invalid(() => loadConfigObject(raw, env));
  for (const text of Object.values(env)) assert.ok(!message.includes(text), `${text} in\n${message}`);
  assert.equal(message, [
    'invalid config (7 problems):',
    'models.champion.threshold: must be a number, got string from ${V}',
    'models.challenger.url: must be an http(s) URL, got the value from "ws://${U}"',
    'routes[0].score: must be a JSON Pointer starting with "/", got the value of ${P}',
    'routes[1]: duplicates routes[0] (POST /predict)',
    'traffic.challenger: traffic.control + traffic.challenger must be <= 1, got the value of ${N} + the value of ${N}',
    'mode: must be one of normal, bypass, got string from ${V}',
    'guardrails.minSamples: must be <= guardrails.window (the value of ${W}): the window never holds more',
  ].join('\n'));
});

test('validateConfig: without sources the same messages quote the values (a config written in full)', () => {
  const raw = { ...minimal(), mode: 'sometimes' };
  assert.deepEqual(invalid(() => validateConfig(raw)).issues, [{ path: 'mode', message: 'must be one of normal, bypass, got string "sometimes"' }]);
});

test('hideEnv: any variable text left in a message is replaced by its name: quoted always, bare when 8 characters or more', () => {
  const used = new Map([['TOKEN', 'tok-123456'], ['V', 'v2'], ['EMPTY', '']]);
  assert.equal(hideEnv('no table for "v2"; token tok-123456 and "tok-123456"', used),
    'no table for (from ${V}); token (from ${TOKEN}) and (from ${TOKEN})');
  // short texts are too common to search for bare: "v2" inside a word stays
  assert.equal(hideEnv('version v2x', used), 'version v2x');
  assert.equal(hideEnv('nothing', new Map()), 'nothing');
});

test('substituteEnvTracked: variables may add at most 1 MiB to the config, however often they are referenced', () => {
  const big = 'x'.repeat(100 * 1024);
  const raw = { list: Array.from({ length: 20 }, () => 'a ${BIG}') };
  const { issues, message } = invalid(() => substituteEnvTracked(raw, { BIG: big }));
  assert.deepEqual(issues, [{ path: 'list[10]', message: 'the values substituted from the environment add more than 1 MiB to the config, over the limit' }]);
  assert.ok(!message.includes(big));
  assert.equal((substituteEnvTracked({ list: raw.list.slice(0, 10) }, { BIG: big }).value as { list: string[] }).list.length, 10);
});

test('substituteEnvTracked: a variable whose text is hostile YAML stays text (re-reading it never throws)', () => {
  for (const text of [`${'['.repeat(20_000)}${']'.repeat(20_000)}`, `${'- '.repeat(20_000)}1`, `${'{a: '.repeat(20_000)}1${'}'.repeat(20_000)}`]) {
    assert.deepEqual(substituteEnvTracked({ a: '${DEEP}' }, { DEEP: text }).value, { a: text });
  }
  // what can read as a scalar still does, surrounding blanks included
  assert.deepEqual(substituteEnvTracked({ a: '${A}', b: '${B}', c: '${C}', d: '${D}' }, { A: ' 8080 ', B: '-1.5e-3', C: 'False', D: '- 1' }).value,
    { a: 8080, b: -0.0015, c: false, d: '- 1' });
});
