import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function sourceFiles(dir: string, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name), prefix + e.name + '/') : e.name.endsWith('.ts') ? [prefix + e.name] : []);
}

test('docs/design.md: the module map names every module under src/, and nothing that is gone', () => {
  const text = fs.readFileSync(path.join(ROOT, 'docs', 'design.md'), 'utf8');
  const map = text.slice(text.indexOf('## Module map'));
  const entries = [...map.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
  const matches = (entry: string, file: string) =>
    entry === file || (entry.includes('*') && new RegExp('^' + entry.replace(/\./g, '\\.').replace(/\*/g, '[^/]*') + '$').test(file));
  const files = sourceFiles(path.join(ROOT, 'src'));
  assert.deepEqual(files.filter((f) => !entries.some((e) => matches(e, f))), [], 'modules missing from the map');
  assert.deepEqual(entries.filter((e) => !files.some((f) => matches(e, f))), [], 'map entries without a module');
});
