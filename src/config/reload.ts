/**
 * Reloading the config file (docs/config.md, "Reloading"): on SIGHUP always, and when the file changes. The directory is
 * watched, not the file: editors replace files (write a temp file, rename), which a watch on the old
 * inode would miss.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_BOUNDS } from './bounds.js';
import type { Env } from './env.js';
import { configId } from './id.js';
import { readConfigOffThread, type OffThreadOptions } from './off-thread.js';
import type { Config, LoadedConfig } from './types.js';

/** Keys that need a restart: the running process keeps their old values. */
export const RESTART_KEYS = ['listen', 'admin', 'logging.dir', 'limits', 'shutdownGraceMs', 'shutdownDelayMs', 'fleet'] as const;

/**
 * `loaded`: the file was read and is valid. `sameConfig`: its content changed, but nothing that takes
 * effect without a restart did (only restart-only keys, comments or layout): the effective config
 * stays as it is, and the change is still announced.
 */
export type ReloadResult =
  | { result: 'loaded'; loaded: LoadedConfig; restartRequired: string[]; sameConfig: boolean }
  | { result: 'unchanged' }
  | { result: 'rejected'; reason: string };

/**
 * Read and validate `file` on a worker thread (off-thread.ts); keep the restart-only keys of
 * `current`. `seen` is the digest of the file's content as last read (null: not known); the
 * same content again is `unchanged`, unless `force` (SIGHUP) loads it all the same. Never rejects.
 */
export async function reloadConfig(
  file: string, current: LoadedConfig, force: boolean, env: Env = process.env, options: OffThreadOptions = {},
  seen: string | null = current.digest ?? null,
): Promise<ReloadResult> {
  let next: LoadedConfig;
  try {
    next = await readConfigOffThread(file, env, options);
  } catch (err) {
    return { result: 'rejected', reason: (err as Error).message };
  }
  if (!force && seen !== null && next.digest === seen) return { result: 'unchanged' };
  const cur = current.config;
  const restartRequired = RESTART_KEYS.filter((k) => JSON.stringify(pick(next.config, k)) !== JSON.stringify(pick(cur, k)));
  let config = next.config;
  if (restartRequired.length > 0) {
    config = Object.freeze({
      ...config,
      listen: cur.listen,
      admin: cur.admin,
      limits: cur.limits,
      shutdownGraceMs: cur.shutdownGraceMs,
      shutdownDelayMs: cur.shutdownDelayMs,
      fleet: cur.fleet,
      logging: Object.freeze({ ...config.logging, dir: cur.logging.dir }),
    });
  }
  const id = config === next.config ? next.id : configId(config);
  return { result: 'loaded', loaded: { ...next, config, id }, restartRequired: [...restartRequired], sameConfig: !force && id === current.id };
}

function pick(config: Config, key: (typeof RESTART_KEYS)[number]): unknown {
  return key === 'logging.dir' ? config.logging.dir : config[key];
}

/**
 * Call `onChange` (debounced) whenever the content of `file` changed. Any change in its directory
 * triggers a look, not only one under the file's own name: a Kubernetes ConfigMap volume swaps a
 * `..data` symlink, and the file's name never appears in the directory's events. The file's bytes
 * are compared with the last ones seen, so other files changing beside it cause no reload.
 * Returns a function that stops watching.
 */
export function watchConfigFile(file: string, onChange: () => void, debounceMs = 100): () => void {
  const abs = path.resolve(file);
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  // The digest of the content last seen (null: unreadable). The first one is read before this
  // returns: a change made as soon as the process announces itself must not become the baseline.
  let last = contentDigest(abs);
  const look = () => {
    const seen = contentDigest(abs);
    if (stopped || seen === last) return;
    last = seen;
    onChange();
  };
  const watcher = fs.watch(path.dirname(abs), { persistent: false }, () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      look();
    }, debounceMs);
  });
  watcher.on('error', () => undefined);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    watcher.close();
  };
}

/**
 * SHA-256 of a file's first `CONFIG_BOUNDS.bytes + 1` bytes (a larger file is refused by the reload
 * all the same), null when it cannot be read. A FIFO or a device would block the read: it is not
 * read (the reload refuses it).
 */
function contentDigest(abs: string): string | null {
  let fd: number | undefined;
  try {
    if (!fs.statSync(abs).isFile()) return 'not a regular file';
    fd = fs.openSync(abs, 'r');
    const buf = Buffer.alloc(CONFIG_BOUNDS.bytes + 1);
    return createHash('sha256').update(buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0))).digest('hex');
  } catch {
    return null;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
