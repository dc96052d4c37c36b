import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import * as errors from '../../src/errors.js';

const docsDir = new URL('../../docs/', import.meta.url);
const doc = fs.readFileSync(new URL('errors.md', docsDir), 'utf8');

const codes = Object.keys(errors).filter((k) => k.startsWith('CCR_ERR_'));

/** The CCR_ERR_* rows of docs/errors.md's first table: `| \`CODE\` | ...`. */
function documentedCodes(): string[] {
  return [...doc.matchAll(/^\| `(CCR_ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);
}

/** The rows of the HTTP answers table: `| status | \`code\` | when |`, as [code, status]. */
function documentedAnswers(): Array<[string, number]> {
  return [...doc.matchAll(/^\| (\d{3}) \| `([a-z_]+)` \|/gm)].map((m) => [m[2]!, Number(m[1])]);
}

test('every CCR_ERR_* code in src/errors.ts is documented in docs/errors.md, and builds an error with its code', () => {
  assert.ok(codes.length >= 5);
  const documented = new Set(documentedCodes());
  for (const code of codes) {
    assert.ok(documented.has(code), `${code} has no row in docs/errors.md`);
    const err = new (errors as unknown as Record<string, new (m: string) => Error & { code: string }>)[code]!('x');
    assert.equal(err.code, code);
  }
});

test('every CCR_ERR_* code docs/errors.md documents, or any doc mentions, exists in src/errors.ts', () => {
  const rows = documentedCodes();
  assert.equal(new Set(rows).size, rows.length, 'a code has two rows');
  for (const code of rows) assert.ok(codes.includes(code), `docs/errors.md documents ${code}, which src/errors.ts does not define`);
  for (const file of fs.readdirSync(docsDir).filter((f) => f.endsWith('.md'))) {
    const text = fs.readFileSync(new URL(file, docsDir), 'utf8');
    for (const [mention] of text.matchAll(/CCR_ERR_[A-Z0-9_]+/g)) {
      assert.ok(codes.includes(mention), `docs/${file} mentions ${mention}, which src/errors.ts does not define`);
    }
  }
});

test('every HTTP answer code in src/errors.ts is documented in docs/errors.md with the same status', () => {
  const documented = new Map<string, number>();
  for (const [code, status] of documentedAnswers()) {
    assert.ok(!documented.has(code), `${code} has two rows in docs/errors.md`);
    documented.set(code, status);
  }
  const table = Object.entries(errors.HTTP_ERRORS);
  assert.ok(table.length >= 10);
  for (const [code, { status }] of table) {
    assert.equal(documented.get(code), status, `${code} (${status}) is not documented with its status in docs/errors.md`);
  }
});

test('every HTTP answer code docs/errors.md documents exists in src/errors.ts with the same status', () => {
  const answers = documentedAnswers();
  assert.ok(answers.length >= 10);
  for (const [code, status] of answers) {
    const entry = (errors.HTTP_ERRORS as Record<string, { status: number } | undefined>)[code];
    assert.ok(entry !== undefined, `docs/errors.md documents ${code}, which src/errors.ts does not define`);
    assert.equal(entry.status, status, `${code}: docs/errors.md says ${status}, src/errors.ts ${entry.status}`);
  }
});

test('httpErrorBody: the one shape, the table\'s message by default, optional fields only when given', () => {
  assert.deepEqual(errors.httpErrorBody('forbidden'), { error: 'forbidden', message: errors.HTTP_ERRORS.forbidden.message });
  assert.deepEqual(errors.httpErrorBody('upstream_timeout', 'slow', 'r-1', 'v1'), { error: 'upstream_timeout', message: 'slow', requestId: 'r-1', model: 'v1' });
  assert.deepEqual(Object.keys(errors.httpErrorBody('bad_request', 'x', 'r-2')), ['error', 'message', 'requestId']);
  for (const { status, message } of Object.values(errors.HTTP_ERRORS)) {
    assert.ok(status >= 400 && status <= 599);
    assert.ok(message.length > 0);
  }
});

test('exit codes: usage and input errors are 2, others 1', () => {
  assert.equal(errors.exitCodeFor(new errors.CCR_ERR_USAGE('x')), 2);
  assert.equal(errors.exitCodeFor(new errors.CCR_ERR_INPUT('x')), 2);
  assert.equal(errors.exitCodeFor(new Error('boom')), 1);
});
