import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { canonicalJson, configId } from '../../src/config/id.js';
import { loadConfigObject } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/schema.js';
import { minimal } from './helpers.js';

test('canonicalJson sorts keys recursively, keeps array order, drops undefined, no whitespace', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' }, u: undefined }),
    '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  assert.equal(canonicalJson([undefined, null, true, 'é"']), '[null,null,true,"é\\""]');
  assert.equal(canonicalJson({}), '{}');
  assert.equal(canonicalJson(0.1), '0.1');
  // code-unit order, as Array#sort: upper case before lower case
  assert.equal(canonicalJson({ b: 1, B: 2, a: 3 }), '{"B":2,"a":3,"b":1}');
});

test('configId is the first 12 hex chars of SHA-256 over the canonical JSON', () => {
  const config = validateConfig(minimal());
  const expected = createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 12);
  assert.equal(configId(config), expected);
  assert.match(configId(config), /^[0-9a-f]{12}$/);
});

test('the id does not depend on key order', () => {
  const a = minimal();
  const b = {
    routes: [{ score: '/score', path: '/predict' }],
    models: {
      challenger: { version: 'v2', url: 'http://127.0.0.1:9002' },
      champion: { version: 'v1', url: 'http://127.0.0.1:9001' },
    },
  };
  assert.equal(loadConfigObject(a).id, loadConfigObject(b).id);
});

test('explicit defaults and omitted defaults give the same id', () => {
  const explicit: Record<string, any> = {
    ...minimal(),
    listen: { host: '0.0.0.0', port: 8080 },
    admin: { host: '127.0.0.1', port: 9901 },
    passthrough: true,
    decision: { threshold: 0.5 },
    assignment: { unit: 'none', salt: '' },
    traffic: { control: 0, challenger: 0, shadow: true, shadowLimit: 1024 },
    control: {},
    fallback: 'champion',
    mode: 'normal',
    limits: { bodyBytes: '1m', headersTimeoutMs: '10s', requestTimeoutMs: 30000 },
    shutdownGraceMs: '10s',
    logging: { dir: './logs', unit: 'raw', fields: {}, bodies: false, redact: [] },
  };
  explicit.routes[0].method = 'post';
  explicit.models.champion.timeoutMs = '1s';
  assert.equal(loadConfigObject(explicit).id, loadConfigObject(minimal()).id);
});

test('the id changes when a fraction changes, and when an optional section appears', () => {
  const base = loadConfigObject(minimal()).id;
  const ramped = minimal();
  ramped.traffic = { challenger: 0.1 };
  assert.notEqual(loadConfigObject(ramped).id, base);
  const guarded = minimal();
  guarded.guardrails = {};
  assert.notEqual(loadConfigObject(guarded).id, base);
});

test('a runtime change (a ramp step) applied to a copy yields a new id', () => {
  const { config, id } = loadConfigObject(minimal());
  const stepped = { ...config, traffic: { ...config.traffic, challenger: 0.05 } };
  assert.notEqual(configId(stepped), id);
  assert.equal(configId({ ...stepped, traffic: { ...stepped.traffic, challenger: 0 } }), id);
});
