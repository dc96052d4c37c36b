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

export interface Control {
  readonly admin: FastifyInstance;
  readonly adminUrl: string;
  /** Stop guardrails and the ramp (shutdown began: no step or rollback while draining). */
  stopGuardrails(): void;
}

/**
 * The owner's admin listener, then the `start` event, then guardrails and the ramp. `admin`: what the
 * admin app takes besides the runtime and the outcomes sink (handed to `buildAdminApp` as is).
 */
export async function startControl(core: Core, admin: Omit<AdminDeps, 'runtime' | 'outcomes'> = {}): Promise<Control> {
  const { runtime } = core;
  const app = await buildAdminApp({ ...admin, runtime, outcomes: core.outcomes! });
  try {
    const cfg = runtime.fileConfig.config;
    await app.listen({ host: cfg.admin.host, port: cfg.admin.port });
  } catch (err) {
    await app.close();
    throw err;
  }
  runtime.started();
  const fleet = startFleet(runtime);
  const stopGuardrails = startGuardrails(runtime, { share: fleet ?? undefined });
  return { admin: app, adminUrl: urlOf(app), stopGuardrails: () => { stopGuardrails(); void fleet?.close(); } };
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
