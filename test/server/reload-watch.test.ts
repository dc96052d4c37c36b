import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { configMapDir } from '../helpers/configmap.js';
import { spawnCli, waitForLine } from '../helpers/cli.js';
import { readJsonl, tempDir, testConfig } from '../helpers/proxy.js';
import { scoreBehaviour, startUpstream } from '../helpers/upstream.js';

type Ctx = { after(fn: () => unknown): void };

async function models(t: Ctx) {
  const ch = await startUpstream(scoreBehaviour(0.8));
  const cl = await startUpstream(scoreBehaviour(0.3));
  t.after(() => ch.close());
  t.after(() => cl.close());
  const logs = path.join(tempDir(), 'logs');
  const text = (extra: Record<string, unknown>) => stringify(testConfig(ch.url, cl.url, logs, extra));
  return { logs, text };
}

/** `ccrouter serve` on `file`; resolves once it serves. Returns a wait for the n-th event of a type. */
async function serve(t: Ctx, file: string, logs: string) {
  const child = spawnCli(['serve', '--config', file]);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  t.after(() => { child.kill('SIGKILL'); });
  await waitForLine(child, /serving on (http:\/\/\S+)/);
  const eventsFile = path.join(logs, 'events.jsonl');
  const nth = async (type: string, n: number) => {
    for (let i = 0; i < 800; i++) {
      const found = readJsonl(eventsFile).filter((e) => e.type === type);
      if (found.length >= n) return found[n - 1]!;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no ${n} ${type} events: ${fs.readFileSync(eventsFile, 'utf8')} ${stderr}`);
  };
  const stop = async () => {
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  };
  return { nth, stop, eventsFile };
}

test('serve reloads from a ConfigMap volume: a ..data swap takes effect, and a swap of restart-only keys is announced with restartRequired', { timeout: 60_000 }, async (t) => {
  const { logs, text } = await models(t);
  const cm = configMapDir(text({ traffic: { control: 0, challenger: 0.1 } }));
  const proc = await serve(t, cm.file, logs);
  const start = await proc.nth('start', 1);

  cm.update(text({ traffic: { control: 0, challenger: 0.3 } }));
  const ramped = await proc.nth('config_loaded', 1);
  assert.deepEqual(ramped.traffic, { control: 0, challenger: 0.3 });
  assert.notEqual(ramped.config, start.config);
  assert.deepEqual(ramped.restartRequired, []);

  cm.update(text({ traffic: { control: 0, challenger: 0.3 }, shutdownDelayMs: '3s' }));
  const restartOnly = await proc.nth('config_loaded', 2);
  assert.equal(restartOnly.config, ramped.config, 'nothing took effect');
  assert.deepEqual(restartOnly.restartRequired, ['shutdownDelayMs']);
  await proc.stop();
});

test('serve reloads after an editor replaces the file (write a temp file, rename) and after an in-place write', { timeout: 60_000 }, async (t) => {
  const { logs, text } = await models(t);
  const dir = tempDir('ccrouter-edit-');
  const file = path.join(dir, 'ccrouter.yaml');
  fs.writeFileSync(file, text({ traffic: { control: 0, challenger: 0.1 } }));
  const proc = await serve(t, file, logs);

  fs.writeFileSync(file + '.swp', text({ traffic: { control: 0, challenger: 0.2 } }));
  fs.renameSync(file + '.swp', file);
  assert.deepEqual((await proc.nth('config_loaded', 1)).traffic, { control: 0, challenger: 0.2 });

  fs.writeFileSync(file, text({ traffic: { control: 0.05, challenger: 0.2 } }));
  assert.deepEqual((await proc.nth('config_loaded', 2)).traffic, { control: 0.05, challenger: 0.2 });

  fs.appendFileSync(file, '# saved again, a comment added\n');
  const comment = await proc.nth('config_loaded', 3);
  assert.deepEqual(comment.restartRequired, []);
  await proc.stop();
  // An in-place write truncates before it writes: a read that lands in between sees a torn file and
  // is refused (the last good config stays), which is right; nothing else may appear.
  const types = readJsonl(proc.eventsFile).map((e) => e.type).filter((type) => type !== 'config_rejected');
  assert.deepEqual(types, ['start', 'config_loaded', 'config_loaded', 'config_loaded', 'shutdown']);
});
