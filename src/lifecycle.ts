/**
 * Start-up and shutdown steps shared by every `serve` process (docs/design.md#start-up-and-shutdown):
 * the records it writes and its runtime; for the process that owns the levers (alone, or the primary
 * of `--workers`), the admin listener, the `start` event, guardrails and the ramp; and the last steps
 * of every shutdown.
 */
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildAdminApp, type AdminDeps } from './admin/app.js';
import type { LoadedConfig } from './config/types.js';
import { startFleet } from './fleet/start.js';
import { startGuardrails } from './guardrails/start.js';
import { Metrics } from './metrics.js';
import { pairLine } from './records/pair-line.js';
import { nullSink, openSink, type RecordSink } from './records/sink.js';
import type { PairRecord } from './records/types.js';
import type { Counters } from './runtime/recorder.js';
import { Runtime } from './runtime/runtime.js';

export interface CoreOptions {
  /** The pair records' file name in `logging.dir` (a serving process); none for a primary. */
  pairsFile?: string;
  /** This process owns the levers: it writes `events.jsonl` and `outcomes.jsonl`. */
  owner: boolean;
  seedSuffix?: string;
  counters?: (own: Counters) => Counters;
  defaultMetrics?: boolean;
}

/** A runtime and the record files it writes. */
export interface Core {
  readonly runtime: Runtime;
  /** `outcomes.jsonl`, for the owner's admin listener. */
  readonly outcomes: RecordSink | null;
  readonly sinks: readonly RecordSink[];
}

export async function openCore(loaded: LoadedConfig, options: CoreOptions): Promise<Core> {
  const dir = path.resolve(loaded.config.logging.dir);
  let rt: Runtime | undefined;
  const onError = () => rt?.recorder.writeFailed();
  const pairs: RecordSink<PairRecord> = options.pairsFile === undefined
    ? nullSink()
    : await openSink(path.join(dir, options.pairsFile), { rotate: loaded.config.logging.rotate, onError, line: pairLine });
  // Events and outcomes are few and precious: written synchronously, by the owner only.
  const events = options.owner ? await openSink(path.join(dir, 'events.jsonl'), { sync: true, onError }) : nullSink();
  const outcomes = options.owner ? await openSink(path.join(dir, 'outcomes.jsonl'), { sync: true, onError }) : null;
  const metrics = new Metrics({ defaultMetrics: options.defaultMetrics });
  rt = new Runtime({ loaded, metrics, pairs, events, seedSuffix: options.seedSuffix, counters: options.counters });
  // The process that writes pair records counts them in its metrics.
  if (options.pairsFile !== undefined) rt.recorder.onPair((r) => metrics.observePair(r));
  return { runtime: rt, outcomes, sinks: outcomes ? [pairs, events, outcomes] : [pairs, events] };
}

/** What `/readyz` answers (docs/operations.md#probes). */
export type ReadyState = 'starting' | 'ready' | 'draining';

/**
 * Readiness: `starting` until the public port listens with a loaded config, `ready` then, `draining`
 * from the shutdown signal on. It only moves forward.
 */
export class Readiness {
  #state: ReadyState = 'starting';

  get state(): ReadyState {
    return this.#state;
  }

  serving(): void {
    if (this.#state === 'starting') this.#state = 'ready';
  }

  draining(): void {
    this.#state = 'draining';
  }
}

export interface Control {
  readonly admin: FastifyInstance;
  readonly adminUrl: string;
  readonly readiness: Readiness;
  /** The public port listens: `/readyz` turns ready; the `start` event; guardrails and the ramp begin. */
  serving(): void;
  /** Stop guardrails and the ramp (shutdown began: no step or rollback while draining). */
  stopGuardrails(): void;
}

/**
 * The owner's admin listener, up before the public port so that probes see `starting` (docs/operations.md#probes).
 * `admin`: what the admin app takes besides the runtime, the outcomes sink and readiness (handed to
 * `buildAdminApp` as is). Call `serving()` once the public port listens.
 */
export async function openControl(core: Core, admin: Omit<AdminDeps, 'runtime' | 'outcomes' | 'readiness'> = {}): Promise<Control> {
  const { runtime } = core;
  const readiness = new Readiness();
  const app = await buildAdminApp({ ...admin, runtime, outcomes: core.outcomes!, readiness: () => readiness.state });
  try {
    const cfg = runtime.fileConfig.config;
    await app.listen({ host: cfg.admin.host, port: cfg.admin.port });
  } catch (err) {
    await app.close();
    throw err;
  }
  let stop: (() => void) | null = null;
  let fleet: ReturnType<typeof startFleet> = null;
  let stopped = false;
  return {
    admin: app,
    adminUrl: urlOf(app),
    readiness,
    serving() {
      if (stop !== null || stopped) return;
      readiness.serving();
      runtime.started();
      fleet = startFleet(runtime);
      stop = startGuardrails(runtime, { share: fleet ?? undefined });
    },
    stopGuardrails() {
      stopped = true;
      stop?.();
      void fleet?.close();
    },
  };
}

/** openControl, then `serving()`: for a caller whose public port already listens. */
export async function startControl(core: Core, admin: Omit<AdminDeps, 'runtime' | 'outcomes' | 'readiness'> = {}): Promise<Control> {
  const control = await openControl(core, admin);
  control.serving();
  return control;
}

/**
 * The start of every shutdown (docs/reliability.md#shutdown): `/readyz` answers 503 at once, and
 * everything is served as before for `delayMs` while load balancers stop sending; then `rest` (the
 * drain). The returned function is safe to call more than once: a later call ends what is left of
 * the delay (a second Ctrl-C, or a worker's primary that already waited) and resolves with the first.
 */
export function shutdownSequence(
  readiness: Readiness | null, delayMs: number, rest: () => Promise<void>,
): (options?: { delay?: boolean }) => Promise<void> {
  let done: Promise<void> | null = null;
  let cut: () => void = () => undefined;
  return (options = {}) => {
    if (done !== null) {
      cut();
      return done;
    }
    readiness?.draining();
    const wait = options.delay === false || delayMs <= 0 ? Promise.resolve() : new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      cut = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    done = wait.then(rest);
    return done;
  };
}

/** The last steps of a shutdown: the `shutdown` event, listeners and model clients closed, records flushed. */
export async function closeCore(core: Core, admin?: FastifyInstance | null): Promise<void> {
  core.runtime.event('shutdown');
  await Promise.allSettled([admin?.close(), core.runtime.close()]);
  await Promise.allSettled(core.sinks.map((s) => s.close()));
}

export function urlOf(app: FastifyInstance): string {
  const a = app.server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return `http://${host}:${a.port}`;
}
