import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import * as errors from '../../src/errors.js';

test('every CCR_ERR_* code is documented in docs/errors.md', () => {
  const doc = fs.readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const codes = Object.keys(errors).filter((k) => k.startsWith('CCR_ERR_'));
  assert.ok(codes.length >= 5);
  for (const code of codes) {
    assert.ok(doc.includes('`' + code + '`'), `${code} is not in docs/errors.md`);
    const err = new (errors as unknown as Record<string, new (m: string) => Error & { code: string }>)[code]!('x');
    assert.equal(err.code, code);
  }
});

test('exit codes: usage and input errors are 2, others 1', () => {
  assert.equal(errors.exitCodeFor(new errors.CCR_ERR_USAGE('x')), 2);
  assert.equal(errors.exitCodeFor(new errors.CCR_ERR_INPUT('x')), 2);
  assert.equal(errors.exitCodeFor(new Error('boom')), 1);
});
