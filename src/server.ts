/**
 * `serve`: open the record sinks, build the public and admin apps, listen, and shut down
 * gracefully (SPEC 5): stop accepting, finish requests in flight, close idle keep-alive
 * connections, wait for shadow calls, cancel what is left at `shutdownGraceMs`, flush, exit 0.
 */
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { LoadedConfig } from './config/types.js';
import { buildApp, type AppState } from './app.js';
import { buildAdminApp } from './admin/app.js';
import { Metrics } from './metrics.js';
import { pairLine } from './records/pair-line.js';
import { nullSink, openSink, type RecordSink } from './records/sink.js';
import { Runtime } from './runtime/runtime.js';
import { startGuardrails } from './guardrails/start.js';
import { attachCalibration } from './calibration/attach.js';

export interface ServerOptions {
  /** Worker number (1..N) with `--workers`: names the pairs file and seeds the no-key generator. */
  worker?: number;
  /** Start the admin listener (the primary owns it with workers). Default true. */
  admin?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Collect Node's default process metrics (off in tests that build many servers). */
  defaultMetrics?: boolean;
}

export interface ServerHandle {
  readonly url: string;
  readonly adminUrl: string | null;
  readonly runtime: Runtime;
  readonly app: FastifyInstance;
  /** Graceful shutdown; resolves once every record is flushed. Safe to call more than once. */
  shutdown(): Promise<void>;
}

const DRAIN_POLL_MS = 25;

export async function startServer(given: LoadedConfig, options: ServerOptions = {}): Promise<ServerHandle> {
  const loaded = given.calibration ? given : attachCalibration(given);
  const cfg = loaded.config;
  const dir = path.resolve(cfg.logging.dir);
  let rt: Runtime | undefined;
  const onError = () => rt?.logWriteFailed();
  const pairsName = options.worker === undefined ? 'pairs.jsonl' : `pairs-w${options.worker}.jsonl`;
  const withAdmin = options.admin !== false;
  const pairs = await openSink(path.join(dir, pairsName), { rotate: cfg.logging.rotate, onError, line: pairLine });
  // Events and outcomes are few and precious: written synchronously, by the process that owns the
  // admin listener (with workers, the primary).
  const events = withAdmin ? await openSink(path.join(dir, 'events.jsonl'), { sync: true, onError }) : nullSink();
  const outcomes = withAdmin ? await openSink(path.join(dir, 'outcomes.jsonl'), { sync: true, onError }) : null;
  const sinks: RecordSink[] = [pairs, events];
  if (outcomes) sinks.push(outcomes);

  rt = new Runtime({
    loaded,
    metrics: new Metrics({ defaultMetrics: options.defaultMetrics }),
    pairs,
    events,
    seedSuffix: options.worker === undefined ? undefined : String(options.worker),
  });
  const runtime = rt;

  const { app, state } = await buildApp(runtime);
  const admin = withAdmin && outcomes ? await buildAdminApp({ runtime, outcomes, env: options.env }) : null;
  try {
    await app.listen({ host: cfg.listen.host, port: cfg.listen.port });
    if (admin) await admin.listen({ host: cfg.admin.host, port: cfg.admin.port });
  } catch (err) {
    await Promise.allSettled([app.close(), admin?.close(), runtime.close(), ...sinks.map((s) => s.close())]);
    throw err;
  }
  runtime.started();
  // Guardrails and the ramp run in the process that owns the levers (the admin listener).
  const stopGuardrails = withAdmin ? startGuardrails(runtime) : () => undefined;

  let shutdownPromise: Promise<void> | null = null;
  const shutdown = () => {
    if (shutdownPromise === null) {
      stopGuardrails(); // no ramp step or rollback while draining
      shutdownPromise = drain(app, admin, state, runtime, sinks);
    }
    return shutdownPromise;
  };

  return {
    url: urlOf(app),
    adminUrl: admin ? urlOf(admin) : null,
    runtime,
    app,
    shutdown,
  };
}

async function drain(app: FastifyInstance, admin: FastifyInstance | null, state: AppState, rt: Runtime, sinks: RecordSink[]): Promise<void> {
  const graceMs = rt.fileConfig.config.shutdownGraceMs;
  const deadline = Date.now() + graceMs;
  state.draining = true;
  const server = app.server;
  // fastify.close() stops accepting and resolves once every connection is gone; idle keep-alive
  // connections are closed here as they appear, so it never waits out keepAliveTimeout.
  const closed = app.close();
  let canceled = false;
  while (state.inflight > 0 || rt.pendingRecords > 0 || server.listening) {
    server.closeIdleConnections();
    if (!canceled && Date.now() >= deadline) {
      canceled = true;
      rt.cancelAll(`canceled at shutdown after shutdownGraceMs (${graceMs} ms)`);
      server.closeAllConnections();
    }
    if (canceled && Date.now() >= deadline + 2000) break; // records of canceled calls are written at once
    await sleep(DRAIN_POLL_MS);
  }
  server.closeAllConnections();
  await closed.catch(() => undefined);
  rt.event('shutdown');
  await Promise.allSettled([admin?.close(), rt.close()]);
  await Promise.allSettled(sinks.map((s) => s.close()));
}

function urlOf(app: FastifyInstance): string {
  const a = app.server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return `http://${host}:${a.port}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
