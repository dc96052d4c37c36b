/**
 * Reading a config for a reload on a worker thread (docs/config.md, "Reloading"): the serving thread
 * only posts the request and, later, swaps the result in. Even a file that is slow to read within
 * the bounds of bounds.ts never holds up a request; one that takes longer than `timeoutMs` or needs
 * more than `heapMb` of memory is given up (the worker is ended) and the reload is refused.
 *
 * One worker is kept while reloads come, and ended after a minute without any: it holds a few
 * megabytes that a proxy reloading once a day does not need. It never keeps the process alive.
 */
import { resolve as resolvePath } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CCR_ERR_CALIBRATION, CCR_ERR_CONFIG_INVALID, CCR_ERR_CONFIG_READ } from '../errors.js';
import type { Env } from './env.js';
import type { ConfigIssue } from './issues.js';
import { deepFreeze } from './schema.js';
import type { LoadedConfig } from './types.js';

export interface ReadRequest {
  id: number;
  file: string;
  env: Record<string, string | undefined>;
}

export type ReadReply =
  | { id: number; ok: true; loaded: LoadedConfig }
  | { id: number; ok: false; code: string; message: string; issues: ConfigIssue[] | undefined };

export interface OffThreadOptions {
  /** Give up a read after this long (default 30 s). */
  timeoutMs?: number;
  /** The worker's heap limit in MiB (default 256). */
  heapMb?: number;
}

export const READ_TIMEOUT_MS = 30_000;
export const READ_HEAP_MB = 256;
const IDLE_MS = 60_000;

/** Read, validate and calibrate `file` on a worker thread; rejects with the error a direct read would throw. */
export function readConfigOffThread(file: string, env: Env = process.env, options: OffThreadOptions = {}): Promise<LoadedConfig> {
  return reader.read(file, env, options);
}

class OffThreadReader {
  #worker: Worker | null = null;
  #heapMb = 0;
  #idle: NodeJS.Timeout | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #lastId = 0;

  /** One read at a time: the worker reads one file at a time anyway, and each gets its own deadline. */
  read(file: string, env: Env, options: OffThreadOptions): Promise<LoadedConfig> {
    const run = this.#queue.then(() => this.#read(file, env, options));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #read(file: string, env: Env, options: OffThreadOptions): Promise<LoadedConfig> {
    const timeoutMs = options.timeoutMs ?? READ_TIMEOUT_MS;
    const heapMb = options.heapMb ?? READ_HEAP_MB;
    if (this.#idle !== null) clearTimeout(this.#idle);
    if (this.#worker !== null && this.#heapMb !== heapMb) this.#end(this.#worker);
    const worker = this.#worker ?? this.#spawn(heapMb);
    const id = ++this.#lastId;
    return new Promise<LoadedConfig>((resolve, reject) => {
      const settle = (end: boolean, fn: () => void) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (end) this.#end(worker);
        else this.#idle = setTimeout(() => this.#end(worker), IDLE_MS).unref();
        fn();
      };
      const onMessage = (reply: ReadReply) => {
        if (reply.id !== id) return;
        settle(false, () => (reply.ok ? resolve(revive(reply.loaded)) : reject(rebuild(reply))));
      };
      const onError = (err: Error) => settle(true, () => reject(failure(file, (err as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? `needed more than ${heapMb} MiB of memory to read, given up`
        : `the reader failed: ${err.message}`)));
      const onExit = (code: number) => settle(true, () => reject(failure(file, `the reader stopped (exit code ${code})`)));
      const timer = setTimeout(() => settle(true, () => reject(failure(file, `took longer than ${timeoutMs} ms to read, given up`))), timeoutMs);
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.postMessage({ id, file, env: { ...env } } satisfies ReadRequest);
    });
  }

  #spawn(heapMb: number): Worker {
    const options = { resourceLimits: { maxOldGenerationSizeMb: heapMb } };
    const here = import.meta.url;
    let worker: Worker;
    if (here.endsWith('.ts')) {
      // Running from the TypeScript sources (tests, tsx): the worker registers the same loader first.
      const loader = JSON.stringify(import.meta.resolve('tsx/esm/api'));
      const entry = JSON.stringify(new URL('./read-worker.ts', here).href);
      worker = new Worker(`import(${loader}).then((m) => { m.register(); return import(${entry}); })`, { ...options, eval: true });
    } else {
      worker = new Worker(new URL('./read-worker.js', here), options);
    }
    worker.unref();
    // A worker that fails between reads is simply replaced at the next one.
    worker.on('error', () => undefined);
    this.#worker = worker;
    this.#heapMb = heapMb;
    return worker;
  }

  #end(worker: Worker): void {
    if (this.#worker === worker) this.#worker = null;
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = null;
    worker.removeAllListeners('exit');
    void worker.terminate();
  }
}

const reader = new OffThreadReader();

/** The worker's answer, frozen again (a structured clone is not). */
function revive(loaded: LoadedConfig): LoadedConfig {
  deepFreeze(loaded.config);
  if (loaded.calibration) deepFreeze(loaded.calibration);
  return loaded;
}

function rebuild(reply: Extract<ReadReply, { ok: false }>): Error {
  if (reply.code === 'CCR_ERR_CONFIG_INVALID') return Object.assign(new CCR_ERR_CONFIG_INVALID(reply.message), { issues: reply.issues ?? [] });
  if (reply.code === 'CCR_ERR_CONFIG_READ') return new CCR_ERR_CONFIG_READ(reply.message);
  if (reply.code === 'CCR_ERR_CALIBRATION') return new CCR_ERR_CALIBRATION(reply.message);
  return Object.assign(new Error(reply.message), { code: reply.code });
}

function failure(file: string, reason: string): Error {
  return new CCR_ERR_CONFIG_READ(`cannot read config ${resolvePath(file)}: ${reason}`);
}
