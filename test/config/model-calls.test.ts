/** `models.<role>.headers`, `paths`, `ca`, `limits.responseBytes` and `guardrails.actions`: defaults, and each bad value named. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { validateConfig } from '../../src/config/schema.js';
import { tempDir } from '../helpers/proxy.js';
import { hasOpenssl, makeCertificates } from '../helpers/tls.js';
import { invalid, minimal, testRejections, type RejectionCase } from './helpers.js';

type Raw = Record<string, any>;

const dir = tempDir('ccrouter-ca-');
const notPem = path.join(dir, 'not.pem');
fs.writeFileSync(notPem, 'this is not a certificate\n');
const brokenPem = path.join(dir, 'broken.pem');
fs.writeFileSync(brokenPem, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
const missing = path.join(dir, 'missing.pem');
const https = (c: Raw) => { c.models.challenger.url = 'https://127.0.0.1:8443'; };

/** Each case: a change to the minimal config and the exact `path: problem` lines it must produce. */
const CASES: RejectionCase[] = [
  ['a paths entry for a path that is not a scored route', (c) => { c.models.challenger.paths = { '/v2/models/fraud/infer': '/v2/models/fraud-v8/infer' }; },
    'models.challenger.paths./v2/models/fraud/infer: is not the path of a scored route (routes have "/predict")'],
  ['a paths target that is not a path', (c) => { c.models.challenger.paths = { '/predict': 'v1/models/x:predict' }; },
    'models.challenger.paths./predict: must be a path starting with "/", without spaces, query or fragment, got "v1/models/x:predict"'],
  ['a paths target with a query', (c) => { c.models.champion.paths = { '/predict': '/p?x=1' }; },
    'models.champion.paths./predict: must be a path starting with "/", without spaces, query or fragment, got "/p?x=1"'],
  ['a paths target with a control byte', (c) => { c.models.champion.paths = { '/predict': '/p\u0001' }; },
    'models.champion.paths./predict: must be a path starting with "/", without spaces, query or fragment, got "/p\\u0001"'],
  ['a paths target that is a number', (c) => { c.models.champion.paths = { '/predict': 7 }; },
    'models.champion.paths./predict: must be a path string, got number 7'],
  ['paths as a list', (c) => { c.models.champion.paths = ['/p']; }, 'models.champion.paths: must be a mapping, got a list'],
  ['a header name that is not a token', (c) => { c.models.challenger.headers = { 'x bad': 'v' }; },
    "models.challenger.headers.x bad: is not a valid header name (letters, digits and !#$%&'*+.^_`|~- only)"],
  ['a header name with a colon', (c) => { c.models.challenger.headers = { 'x-a:': 'v' }; },
    "models.challenger.headers.x-a:: is not a valid header name (letters, digits and !#$%&'*+.^_`|~- only)"],
  ['a header value with CR LF', (c) => { c.models.challenger.headers = { 'x-a': 'v\r\nx-b: injected' }; },
    'models.challenger.headers.x-a: must not contain control characters (CR, LF, NUL...), got "v\\r\\nx-b: injected"'],
  ['a header value that is a number', (c) => { c.models.challenger.headers = { 'x-a': 5 }; },
    "models.challenger.headers.x-a: must be a string, or null to remove the caller's header, got number 5"],
  ['a header ccrouter owns', (c) => { c.models.challenger.headers = { Host: 'x', 'Transfer-Encoding': 'chunked', 'x-ccrouter-role': 'served' }; },
    'models.challenger.headers.Host: cannot be set or removed: ccrouter sets this header on every call itself',
    'models.challenger.headers.Transfer-Encoding: cannot be set or removed: ccrouter sets this header on every call itself',
    'models.challenger.headers.x-ccrouter-role: cannot be set or removed: ccrouter sets this header on every call itself'],
  ['one header named twice in two spellings', (c) => { c.models.challenger.headers = { Authorization: 'a', authorization: null }; },
    'models.challenger.headers.authorization: names the same header as models.challenger.headers.Authorization (header names ignore case)'],
  ['a ca file that is missing', (c) => { https(c); c.models.challenger.ca = missing; },
    `models.challenger.ca: cannot read ${JSON.stringify(missing)}: no such file`],
  ['a ca file that is not PEM', (c) => { https(c); c.models.challenger.ca = notPem; },
    `models.challenger.ca: ${JSON.stringify(notPem)} is not a PEM file: no -----BEGIN CERTIFICATE----- block`],
  ['a ca directory', (c) => { https(c); c.models.challenger.ca = dir; },
    `models.challenger.ca: cannot read ${JSON.stringify(dir)}: not a regular file`],
  ['a ca on an http model', (c) => { c.models.challenger.ca = notPem; },
    'models.challenger.ca: applies to an https model only, but models.challenger.url is not https'],
  ['limits.responseBytes zero', (c) => { c.limits = { responseBytes: 0 }; }, 'limits.responseBytes: must be >= 1'],
  ['an action for an unknown rule', (c) => { c.guardrails = { actions: { error_rat: 'alert' } }; },
    'guardrails.actions.error_rat: unknown key (did you mean error_rate?)'],
  ['an unknown action', (c) => { c.guardrails = { actions: { error_rate: 'page' } }; },
    'guardrails.actions.error_rate: must be one of rollback, alert, got string "page"'],
  ['actions as a list', (c) => { c.guardrails = { actions: ['alert'] }; }, 'guardrails.actions: must be a mapping, got a list'],
];

describe('model-specific calls: bad values, each named', () => {
  testRejections(CASES, validateConfig);

  test('a certificate block that does not parse is named with its position', () => {
    const raw = minimal();
    https(raw);
    raw.models.challenger.ca = brokenPem;
    const { message } = invalid(() => validateConfig(raw));
    assert.match(message, new RegExp(`models\\.challenger\\.ca: ${JSON.stringify(brokenPem).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: certificate 1 of 1 cannot be parsed`));
  });
});

describe('model-specific calls: valid values', () => {
  test('defaults: no headers, paths or ca; limits.responseBytes 16 MiB; no per-rule actions', () => {
    const c = validateConfig({ ...minimal(), guardrails: { maxErrorRate: 0.1 } });
    assert.equal(c.models.challenger.headers, undefined);
    assert.equal(c.models.challenger.paths, undefined);
    assert.equal(c.models.challenger.ca, undefined);
    assert.equal(c.limits.responseBytes, 16 * 1024 * 1024);
    assert.equal(c.guardrails!.action, 'rollback');
    assert.equal(c.guardrails!.actions, undefined);
  });

  test('headers lower-cased, null kept; paths for scored routes; sizes with units; actions per rule', () => {
    const raw = minimal();
    raw.routes.push({ path: '/v1/models/fraud:predict', preset: 'tfserving' });
    raw.models.challenger.headers = { Authorization: 'Bearer t', Cookie: null, __proto__x: 'y' };
    raw.models.challenger.paths = { '/v1/models/fraud:predict': '/v1/models/fraud-v8:predict' };
    raw.limits = { responseBytes: '2m' };
    raw.guardrails = { action: 'alert', actions: { error_rate: 'rollback' } };
    const c = validateConfig(raw);
    assert.deepEqual({ ...c.models.challenger.headers }, { authorization: 'Bearer t', cookie: null, __proto__x: 'y' });
    assert.deepEqual({ ...c.models.challenger.paths }, { '/v1/models/fraud:predict': '/v1/models/fraud-v8:predict' });
    assert.equal(c.limits.responseBytes, 2 * 1024 * 1024);
    assert.deepEqual({ ...c.guardrails!.actions }, { error_rate: 'rollback' });
  });

  test('a header named __proto__ stays a header', () => {
    const raw = minimal();
    raw.models.challenger.headers = JSON.parse('{"__proto__": "x"}');
    const c = validateConfig(raw);
    assert.equal(Object.getOwnPropertyDescriptor(c.models.challenger.headers, '__proto__')?.value, 'x');
  });

  test('a ca file of real PEM certificates is taken for an https model', { skip: hasOpenssl() ? false : 'openssl is not installed' }, () => {
    const { caFile } = makeCertificates();
    const raw = minimal();
    https(raw);
    raw.models.challenger.ca = caFile;
    assert.equal(validateConfig(raw).models.challenger.ca, caFile);
  });
});
