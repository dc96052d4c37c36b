/** Start ccrouter in-process on port 0 with a temp log dir, and read what it wrote. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { loadConfigObject } from '../../src/config/load.js';
import { startServer, type ServerHandle } from '../../src/server.js';
import { scoreBehaviour, startUpstream, type Upstream } from './upstream.js';

export interface TestProxy extends ServerHandle {
  dir: string;
  /** Shut down (flushing every record) and return the lines of a log file. */
  stopAndRead(file?: string): Promise<Array<Record<string, any>>>;
}

const made: string[] = [];
// Each test file runs in its own process: its temp directories go when it exits.
process.once('exit', () => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test process exits. */
export function tempDir(prefix = 'ccrouter-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function readJsonl(file: string): Array<Record<string, any>> {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, any>);
}

/** A config for two upstreams; `extra` is merged on top (shallow per top-level key). */
export function testConfig(champion: string, challenger: string, dir: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0, tokenEnv: 'CCROUTER_TEST_TOKEN' },
    models: {
      champion: { url: champion, version: 'v-champ', timeoutMs: 1000 },
      challenger: { url: challenger, version: 'v-chall', timeoutMs: 1000 },
    },
    routes: [{ method: 'POST', path: '/predict', score: '/score' }],
    assignment: { unit: 'header:x-user-id', salt: 'test' },
    logging: { dir },
    shutdownGraceMs: 3000,
    ...extra,
  };
}

/**
 * Every proxy started in this file's process. A test that fails before shutting its proxy down would
 * keep the process (and so the whole run) alive: whatever still runs when the file's tests end is shut
 * down here (shutdown is idempotent).
 */
const started = new Set<ServerHandle>();
after(() => Promise.all([...started].map((h) => h.shutdown())));

export async function startProxy(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = { CCROUTER_TEST_TOKEN: 'secret-token' }): Promise<TestProxy> {
  const loaded = loadConfigObject(raw, env);
  const handle = await startServer(loaded, { env, defaultMetrics: false });
  started.add(handle);
  const dir = path.resolve(loaded.config.logging.dir);
  return Object.assign(handle, {
    dir,
    async stopAndRead(file = 'pairs.jsonl') {
      await handle.shutdown();
      return readJsonl(path.join(dir, file));
    },
  });
}

/**
 * Two scoring models (champion 0.8, challenger 0.3) and a proxy in front of them with `extra` merged
 * into its config, all closed after the test.
 */
export async function scoredProxy(
  t: { after(fn: () => Promise<void>): void }, extra: Record<string, unknown> = {}, env?: NodeJS.ProcessEnv,
): Promise<{ p: TestProxy; ch: Upstream; cl: Upstream }> {
  const ch = await startUpstream(scoreBehaviour(0.8));
  const cl = await startUpstream(scoreBehaviour(0.3));
  t.after(() => ch.close());
  t.after(() => cl.close());
  const p = await startProxy(testConfig(ch.url, cl.url, tempDir(), extra), env);
  t.after(() => p.shutdown());
  return { p, ch, cl };
}
