/**
 * `serve` in one process (or one worker of `--workers`): open the records, build the public app and,
 * when this process owns the levers, the admin listener; listen; and shut down gracefully
 * (docs/reliability.md#shutdown): `/readyz` 503 and `shutdownDelayMs` of serving as before, then stop
 * accepting, finish requests in flight, close idle keep-alive connections, wait for shadow calls,
 * cancel what is left at `shutdownGraceMs`, flush, exit 0.
 */
import type { FastifyInstance } from 'fastify';
import type { LoadedConfig } from './config/types.js';
import { buildApp, type AppState } from './app.js';
import { attachCalibration } from './calibration/attach.js';
import { closeCore, openControl, openCore, shutdownSequence, urlOf, type Control, type Core } from './lifecycle.js';
import type { Runtime } from './runtime/runtime.js';

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
  /**
   * Graceful shutdown; resolves once every record is flushed. `delay: false` skips `shutdownDelayMs`
   * (a worker whose primary already waited). Safe to call more than once: a later call ends what is
   * left of the delay.
   */
  shutdown(options?: { delay?: boolean }): Promise<void>;
}

const DRAIN_POLL_MS = 25;

export async function startServer(given: LoadedConfig, options: ServerOptions = {}): Promise<ServerHandle> {
  const loaded = given.calibration ? given : attachCalibration(given);
  const cfg = loaded.config;
  const owner = options.admin !== false;
  const core = await openCore(loaded, {
    pairsFile: options.worker === undefined ? 'pairs.jsonl' : `pairs-w${options.worker}.jsonl`,
    owner,
    seedSuffix: options.worker === undefined ? undefined : String(options.worker),
    defaultMetrics: options.defaultMetrics,
  });
  const runtime = core.runtime;
  const { app, state } = await buildApp(runtime);
  let control: Control | null = null;
  try {
    if (owner) control = await openControl(core, { env: options.env });
    await app.listen({ host: cfg.listen.host, port: cfg.listen.port });
    control?.serving();
  } catch (err) {
    await Promise.allSettled([app.close(), control?.admin.close(), runtime.close(), ...core.sinks.map((s) => s.close())]);
    throw err;
  }

  const shutdown = shutdownSequence(control?.readiness ?? null, cfg.shutdownDelayMs, async () => {
    control?.stopGuardrails();
    await drain(app, state, core);
    await closeCore(core, control?.admin);
  });

  return {
    url: urlOf(app),
    adminUrl: control ? control.adminUrl : null,
    runtime,
    app,
    shutdown,
  };
}

/** Stop accepting and wait for every answer and every record owed, at most `shutdownGraceMs`. */
async function drain(app: FastifyInstance, state: AppState, core: Core): Promise<void> {
  const rt = core.runtime;
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
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
