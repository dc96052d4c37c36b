import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateConfig } from '../../src/config/schema.js';
import { assertLine, invalid, minimal } from './helpers.js';

test('routes[].instances: a batch route with score, kept in the effective config', () => {
  const c = minimal();
  c.routes = [{ path: '/rank', instances: '/candidates', score: '/scores' }, { path: '/all', instances: '', score: '' }];
  const routes = validateConfig(c).routes;
  assert.equal(routes[0]!.instances, '/candidates');
  assert.equal(routes[1]!.instances, '', 'a request body that is itself the array');
  assert.equal(validateConfig(minimal()).routes[0]!.instances, undefined);
});

test('routes[].instances: with a preset, or not a JSON Pointer, is a config error naming the field', () => {
  const c = minimal();
  c.routes = [{ path: '/v2/models/m/infer', preset: 'kserve-v2', instances: '/inputs' }];
  assertLine(invalid(() => validateConfig(c)).message, 'routes[0].instances: only with score: a preset knows where its instances are');
  const d = minimal();
  d.routes = [{ path: '/rank', instances: 'candidates', score: '/scores' }];
  assertLine(invalid(() => validateConfig(d)).message, 'routes[0].instances: must be a JSON Pointer starting with "/", got "candidates"');
  const e = minimal();
  e.routes = [{ path: '/rank', instances: ['/a'], score: '/scores' }];
  assertLine(invalid(() => validateConfig(e)).message, 'routes[0].instances: must be a JSON Pointer string, got a list');
});
