/** Applying a config reload to a running process, with its event and metric (docs/config.md, "Reloading"). */
import type { Env } from '../config/env.js';
import type { OffThreadOptions } from '../config/off-thread.js';
import { reloadConfig } from '../config/reload.js';
import type { Runtime } from './runtime.js';

interface Pending {
  force: boolean;
  done: Promise<void>;
}

/**
 * Per runtime: the reload that is waiting to start (at most one), the end of the one running, and the
 * digest of the file's content as last read (null after a refused read: whatever comes next is news).
 */
const queues = new WeakMap<Runtime, { tail: Promise<void>; waiting: Pending | null; seen: string | null }>();

/**
 * Reload `file` into `rt`. The file is read off the serving thread; requests keep being served
 * meanwhile and the new config takes effect when it is ready. Reloads run one at a time; requests
 * that come while one runs are merged into one more (a forced one if any was), since it reads the
 * file as it is by then. Resolves once this request's reload has been applied; never rejects.
 */
export function applyReload(rt: Runtime, file: string, force: boolean, env?: Env, options?: OffThreadOptions): Promise<void> {
  let q = queues.get(rt);
  if (q === undefined) {
    q = { tail: Promise.resolve(), waiting: null, seen: rt.fileConfig.digest ?? null };
    queues.set(rt, q);
  }
  if (q.waiting !== null) {
    q.waiting.force ||= force;
    return q.waiting.done;
  }
  const queue = q;
  const pending: Pending = { force, done: Promise.resolve() };
  pending.done = queue.tail.then(() => {
    queue.waiting = null;
    return reloadOnce(rt, queue, file, pending.force, env, options);
  });
  queue.waiting = pending;
  queue.tail = pending.done;
  return pending.done;
}

/**
 * One reload. Every change of the file's content writes an event, so that whoever saved the file sees
 * what became of it (docs/config.md#reloading): an edit of restart-only keys or comments only keeps the
 * config in force, its levers included, and still writes `config_loaded` naming the keys that wait.
 */
async function reloadOnce(
  rt: Runtime, queue: { seen: string | null }, file: string, force: boolean, env: Env | undefined, options: OffThreadOptions | undefined,
): Promise<void> {
  try {
    const r = await reloadConfig(file, rt.fileConfig, force, env, options, queue.seen);
    if (r.result === 'unchanged') return;
    if (r.result === 'rejected') {
      queue.seen = null;
      rt.metrics.configReloads.inc({ result: 'rejected' });
      rt.event('config_rejected', { reason: r.reason });
      return;
    }
    queue.seen = r.loaded.digest ?? null;
    if (!r.sameConfig) rt.loadFileConfig(r.loaded);
    rt.metrics.configReloads.inc({ result: 'loaded' });
    rt.event('config_loaded', { restartRequired: r.restartRequired });
  } catch (err) {
    // Nothing here should throw; if something does, the process keeps serving and later reloads still run.
    process.stderr.write(`ccrouter: applying the config reload failed: ${(err as Error).message}\n`);
  }
}
