import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchConfigFile } from '../../src/config/reload.js';
import { tempDir } from '../helpers/proxy.js';

/** The watcher never keeps a process alive (persistent: false); a test waiting for it must. */
function keepAlive(t: { after(fn: () => void): void }): void {
  const timer = setInterval(() => undefined, 1000);
  t.after(() => clearInterval(timer));
}

/** A directory laid out as Kubernetes mounts a ConfigMap: the file is a symlink through `..data`. */
function configMapDir(content: string): { dir: string; file: string; update(next: string): void } {
  const dir = tempDir('ccrouter-configmap-');
  let version = 0;
  const write = (text: string) => {
    const data = `..${++version}_2026_12_05`;
    fs.mkdirSync(path.join(dir, data));
    fs.writeFileSync(path.join(dir, data, 'ccrouter.yaml'), text);
    return data;
  };
  fs.symlinkSync(write(content), path.join(dir, '..data'));
  fs.symlinkSync('..data/ccrouter.yaml', path.join(dir, 'ccrouter.yaml'));
  return {
    dir,
    file: path.join(dir, 'ccrouter.yaml'),
    // The kubelet's atomic swap: a new `..data_tmp` symlink renamed over `..data`.
    update(next: string) {
      const data = write(next);
      fs.symlinkSync(data, path.join(dir, '..data_tmp'));
      fs.renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    },
  };
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
