import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { validateConfig } from '../../src/config/schema.js';
import type { Built } from '../../src/config/sections/rules.js';
import type { ModelConfig } from '../../src/config/types.js';
import { minimal } from './helpers.js';

// The lines marked @ts-expect-error are checked by `tsc -p tsconfig.test.json` (part of `npm test`):
// should the types stop refusing them, the type-check fails.

test('config typed as writable while frozen: the type refuses every write the value refuses', () => {
  const c = validateConfig(minimal());
  // @ts-expect-error a number of a section
  assert.throws(() => { c.traffic.challenger = 1; }, TypeError);
  // @ts-expect-error a list
  assert.throws(() => { c.routes.push(c.routes[0]!); }, TypeError);
  // @ts-expect-error an item of a list
  assert.throws(() => { c.routes[0]!.path = '/other'; }, TypeError);
  // @ts-expect-error a mapping of user-chosen names
  assert.throws(() => { c.logging.fields.country = '/country'; }, TypeError);
  // @ts-expect-error a model
  assert.throws(() => { c.models.champion.version = 'v9'; }, TypeError);
});

test('a section type and its builder drifting apart: every key must be written, none added', () => {
  const model = { url: 'http://127.0.0.1:9001', version: 'v1', timeoutMs: 1000, threshold: undefined, headers: undefined, paths: undefined, ca: undefined };
  const built: Built<ModelConfig> = model;
  // @ts-expect-error an optional key left out
  const missing: Built<ModelConfig> = { url: model.url, version: model.version, timeoutMs: model.timeoutMs };
  // @ts-expect-error a key the type does not have
  const extra: Built<ModelConfig> = { ...model, retries: 3 };
  // @ts-expect-error a required key given as undefined
  const hole: Built<ModelConfig> = { ...model, version: undefined };
  assert.deepEqual([built, missing, extra, hole].map((b) => b.url), Array(4).fill(model.url));
});

test('config and calibration importing each other: nothing in src/calibration imports src/config', () => {
  const dir = new URL('../../src/calibration/', import.meta.url).pathname;
  const offenders = readdirSync(dir)
    .filter((name) => name.endsWith('.ts'))
    .filter((name) => /from '\.\.\/config\//.test(readFileSync(join(dir, name), 'utf8')));
  assert.deepEqual(offenders, []);
});
