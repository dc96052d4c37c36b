/** SQL text never carries a value that would read as something else: values are bound or escaped (docs/reliability.md). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { literalPath } from '../../src/report/jsonl.js';
import { sqlInt, sqlNumber, sqlString } from '../../src/report/sql.js';

test('SQL literals: NaN/Infinity and NUL characters are refused, never written into SQL text', () => {
  for (const x of [NaN, Infinity, -Infinity]) assert.throws(() => sqlNumber(x), /not a finite number/);
  assert.throws(() => sqlInt(1.5), /not an integer/);
  assert.throws(() => sqlString('a\0b'), /NUL/);
  assert.equal(sqlNumber(0.1), '1.0000000000000001e-1');
  assert.equal(Number(sqlNumber(0.1)), 0.1);
});

test('file paths handed to DuckDB are absolute and match only themselves', () => {
  assert.equal(literalPath('/a[1]/p*?.jsonl'), '/a[[]1]/p[*][?].jsonl');
  assert.equal(literalPath('/x]y{1,2}!^.jsonl'), '/x]y{1,2}!^.jsonl');
  assert.ok(literalPath('~/x').startsWith('/'));
  assert.ok(literalPath('s3://bucket/x').startsWith('/'));
});
