import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchConfigFile } from '../../src/config/reload.js';
import { configMapDir } from '../helpers/configmap.js';
import { tempDir } from '../helpers/proxy.js';

/** The watcher never keeps a process alive (persistent: false); a test waiting for it must. */
function keepAlive(t: { after(fn: () => void): void }): void {
  const timer = setInterval(() => undefined, 1000);
  t.after(() => clearInterval(timer));
}

test('regression: a ConfigMap update (a swapped ..data symlink, the file name never in the events) is seen by the watcher', { timeout: 20_000 }, async (t) => {
  keepAlive(t);
  const cm = configMapDir('traffic: { challenger: 0.1 }\n');
  const changes: string[] = [];
  let seen: () => void = () => undefined;
  const stop = watchConfigFile(cm.file, () => {
    changes.push(fs.readFileSync(cm.file, 'utf8'));
    seen();
  }, 20);
  t.after(stop);
  await sleep(100); // the watcher has read the content it starts from
  const changed = new Promise<void>((resolve) => (seen = resolve));
  cm.update('traffic: { challenger: 0.3 }\n');
  await changed;
  assert.deepEqual(changes, ['traffic: { challenger: 0.3 }\n']);
});

test('files changing beside the config, and a rewrite with the same bytes, cause no reload', { timeout: 20_000 }, async (t) => {
  keepAlive(t);
  const dir = tempDir('ccrouter-watch-');
  const file = path.join(dir, 'ccrouter.yaml');
  fs.writeFileSync(file, 'traffic: { challenger: 0.1 }\n');
  let calls = 0;
  let seen: () => void = () => undefined;
  const stop = watchConfigFile(file, () => {
    calls++;
    seen();
  }, 20);
  t.after(stop);
  await sleep(100);
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'unrelated');
  fs.writeFileSync(file, 'traffic: { challenger: 0.1 }\n');
  await sleep(500);
  assert.equal(calls, 0, 'nothing the config says changed');
  const changed = new Promise<void>((resolve) => (seen = resolve));
  fs.writeFileSync(file, 'traffic: { challenger: 0.2 }\n');
  await changed;
  assert.equal(calls, 1);
});

test('regression: a change made right after the watcher starts is seen (it used to become the baseline, read late)', { timeout: 20_000 }, async (t) => {
  keepAlive(t);
  const dir = tempDir('ccrouter-watch-');
  const file = path.join(dir, 'ccrouter.yaml');
  fs.writeFileSync(file, 'traffic: { challenger: 0.1 }\n');
  let seen: () => void = () => undefined;
  const changed = new Promise<void>((resolve) => (seen = resolve));
  const stop = watchConfigFile(file, () => seen(), 20);
  t.after(stop);
  fs.writeFileSync(file, 'traffic: { challenger: 0.3 }\n');
  await changed;
});
