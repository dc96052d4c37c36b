import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CONFIG_BOUNDS, readConfigText } from '../../src/config/bounds.js';
import { parseConfigText } from '../../src/config/load.js';

const FILE = '/x/c.yaml';

function refused(text: string, message: RegExp): void {
  assert.throws(() => parseConfigText(text, FILE), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'CCR_ERR_CONFIG_READ');
    assert.match(err.message, message);
    return true;
  });
}

const lists = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;

test('bounds: 64 levels of nesting are read, 65 are refused at the line and column of the 65th', () => {
  assert.equal(CONFIG_BOUNDS.depth, 64);
  let v = parseConfigText(lists(64), FILE);
  for (let i = 0; i < 64; i++) v = (v as unknown[])[0];
  assert.equal(v, 1);
  refused(lists(65), /^cannot parse config \/x\/c\.yaml at line 1, column 65: nested deeper than 64 levels, over the limit$/);
  // block style counts alike: a root mapping is level 1
  const block = Array.from({ length: 65 }, (_, i) => `${' '.repeat(i)}k:`).join('\n') + ' 1\n';
  refused(block, /at line 65, column 65: nested deeper than 64 levels/);
});

test('bounds: nesting reached through an alias counts as if written out', () => {
  refused(`a: &a ${lists(60)}\nb: [[[[[*a]]]]]\n`, /^cannot parse config \/x\/c\.yaml: nested deeper than 64 levels once its aliases are expanded, over the limit$/);
});

test('bounds: 100 aliases are read, the 101st is refused', () => {
  const refs = (n: number) => `a: &a 1\nb: [${Array(n).fill('*a').join(', ')}]\n`;
  assert.equal((parseConfigText(refs(100), FILE) as { b: number[] }).b.length, 100);
  refused(refs(101), /^cannot parse config \/x\/c\.yaml at line 2, column \d+: more than 100 aliases \(\*name\), over the limit$/);
});

test('bounds: the size with aliases expanded counts each alias as its anchor\'s text', () => {
  const item = 'x'.repeat(1100);
  // a list of about 11 000 characters: 90 references stay under 1 MiB written out, 100 do not
  const list = `[${Array(10).fill(item).join(', ')}]`;
  const text = (refs: number) => `a: &a ${list}\nb: [${Array(refs).fill('*a').join(', ')}]\n`;
  assert.doesNotThrow(() => parseConfigText(text(90), FILE));
  refused(text(100), /^cannot parse config \/x\/c\.yaml: \d+ characters once its aliases are expanded, over the limit of 1 MiB$/);
});

test('bounds: keys are unique by the property name they become ("1" and 1 are one key), checked in one pass', () => {
  refused('{1: a, "1": b}', /^cannot parse config \/x\/c\.yaml at line 1, column 8: Map keys must be unique$/);
  refused('a: 1\nb: {x: 1, y: 2, x: 3}\n', /at line 2, column 17: Map keys must be unique$/);
  // keys repeated in different mappings are fine
  assert.deepEqual(parseConfigText('a: {x: 1}\nb: {x: 2}\n', FILE), { a: { x: 1 }, b: { x: 2 } });
  const many = Array.from({ length: 10_000 }, (_, i) => `k${i}: ${i}`).join('\n');
  assert.equal(Object.keys(parseConfigText(many, FILE) as object).length, 10_000);
  refused(`${many}\nk9999: 0\n`, /at line 10001, column 1: Map keys must be unique$/);
});

test('bounds: an anchor reused after its alias resolves as yaml does (the last one before the alias)', () => {
  assert.deepEqual(parseConfigText('a: &x 1\nb: *x\nc: &x 2\nd: *x\n', FILE), { a: 1, b: 1, c: 2, d: 2 });
});

test('bounds: readConfigText reads exactly 1 MiB, refuses one byte more without reading it', (t) => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'ccrouter-bounds-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'c.yaml');
  const body = (n: number) => `a: "${'x'.repeat(n - 6)}"\n`;
  fs.writeFileSync(file, body(CONFIG_BOUNDS.bytes));
  assert.equal(readConfigText(file).text.length, CONFIG_BOUNDS.bytes);
  fs.writeFileSync(file, body(CONFIG_BOUNDS.bytes + 1));
  assert.throws(() => readConfigText(file), {
    code: 'CCR_ERR_CONFIG_READ',
    message: `cannot read config ${file}: 1048577 bytes, over the limit of 1 MiB (1048576 bytes)`,
  });
  assert.throws(() => readConfigText(dir), { message: `cannot read config ${dir}: is a directory` });
  assert.throws(() => readConfigText(path.join(dir, 'nope.yaml')), { message: `cannot read config ${path.join(dir, 'nope.yaml')}: no such file` });
});
