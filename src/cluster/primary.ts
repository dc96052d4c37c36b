/**
 * `serve --workers N` (docs/operations.md#several-processes-serve---workers-n): the primary forks N
 * workers sharing the public port and owns what must exist once — the admin listener, the levers,
 * the config reload, guardrails and the ramp, `events.jsonl` and `outcomes.jsonl`. Every change of
 * the effective config is sent to every worker; `/status` sums their counters and `/metrics`
 * aggregates their registries with its own.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { LoadedConfig } from '../config/types.js';
import { closeCore, openControl, openCore, shutdownSequence } from '../lifecycle.js';
import type { Counters } from '../runtime/recorder.js';
import type { Runtime } from '../runtime/runtime.js';
import { fromView, isMessage, type ToPrimary, type ToWorker } from './messages.js';

export interface PrimaryHandle {
  readonly runtime: Runtime;
  readonly url: string;
  readonly adminUrl: string;
  shutdown(): Promise<void>;
}

const METRICS_TIMEOUT_MS = 2000;

export async function startPrimary(loaded: LoadedConfig, workers: number, argv: string[]): Promise<PrimaryHandle> {
  const cfg = loaded.config;
  const counters = new Map<number, Counters>();
  // The primary never serves: its runtime holds the levers and the state the workers follow, and its
  // /status sums the counters its workers report.
  const core = await openCore(loaded, { owner: true, counters: (own) => sumCounters([...counters.values()], own.logWriteErrors) });
  const runtime = core.runtime;
  const broadcast = (m: ToWorker) => {
    for (const w of byK.values()) if (w.isConnected()) w.send(m);
  };
  runtime.onStateChange((state) => broadcast({ type: 'ccr:state', state }));

  let shuttingDown = false;
  let metricsSeq = 0;
  const metricsWaiters = new Map<number, { pending: Set<number>; results: unknown[][]; done: () => void }>();
  let url = '';
  const ready = new Map<number, Promise<void>>();
  const byK = new Map<number, Worker>();

  cluster.setupPrimary({ exec: process.argv[1]!, args: argv });
  const fork = (k: number): Worker => {
    const w = cluster.fork({ CCROUTER_WORKER: String(k) });
    byK.set(k, w);
    let markReady!: () => void;
    ready.set(k, new Promise<void>((r) => (markReady = r)));
    w.on('message', (m: unknown) => {
      if (!isMessage<ToPrimary>(m)) return;
      if (m.type === 'ccr:hello') {
        w.send({ type: 'ccr:state', state: runtime.exportState() } satisfies ToWorker);
      } else if (m.type === 'ccr:ready') {
        url = m.url;
        markReady();
      } else if (m.type === 'ccr:report') {
        counters.set(k, m.counters);
        // Written by the worker; published here for the guardrails, which run in the primary.
        for (const v of m.pairs) runtime.recorder.relay(fromView(v));
      } else if (m.type === 'ccr:metrics') {
        const waiter = metricsWaiters.get(m.id);
        if (waiter && waiter.pending.delete(k)) {
          waiter.results.push(m.metrics);
          if (waiter.pending.size === 0) waiter.done();
        }
      }
    });
    w.on('exit', (code, signal) => {
      for (const waiter of metricsWaiters.values()) if (waiter.pending.delete(k) && waiter.pending.size === 0) waiter.done();
      if (shuttingDown) return;
      // A worker that died is replaced; its records up to its last flush are in its file.
      process.stderr.write(`ccrouter: worker ${k} exited (${signal ?? code}); starting a new one\n`);
      fork(k);
    });
    return w;
  };
  // /metrics: every worker's registry and the primary's own (levers, reloads, guardrails) summed.
  const gather = async (): Promise<string> => {
    const id = ++metricsSeq;
    const pending = new Set([...byK].filter(([, w]) => w.isConnected()).map(([k]) => k));
    const results: unknown[][] = [await runtime.metrics.registry.getMetricsAsJSON()];
    if (pending.size > 0) {
      await new Promise<void>((resolve) => {
        // A worker that does not answer in time is left out rather than hanging the scrape.
        const timer = setTimeout(resolve, METRICS_TIMEOUT_MS);
        metricsWaiters.set(id, { pending, results, done: () => { clearTimeout(timer); resolve(); } });
        for (const k of pending) byK.get(k)!.send({ type: 'ccr:metrics', id } satisfies ToWorker);
      });
      metricsWaiters.delete(id);
    }
    return AggregatorRegistry.aggregate(results as never).metrics();
  };

  // The admin listener first, so that probes see /readyz `starting` while the workers start.
  const control = await openControl(core, { metrics: gather });
  for (let k = 1; k <= workers; k++) fork(k);
  await Promise.all([...ready.values()]);

  control.serving();

  // /readyz answers 503 for all the workers from the signal on; they drain after shutdownDelayMs.
  const shutdown = shutdownSequence(control.readiness, cfg.shutdownDelayMs, async () => {
    shuttingDown = true;
    control.stopGuardrails();
    const exits = [...byK.values()].map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) return resolve();
      w.once('exit', () => resolve());
      w.send({ type: 'ccr:shutdown' } satisfies ToWorker);
    }));
    // Workers drain within shutdownGraceMs; past it (plus a margin) they are killed.
    const grace = cfg.shutdownGraceMs + 5000;
    const timer = setTimeout(() => { for (const w of byK.values()) w.process.kill('SIGKILL'); }, grace);
    await Promise.all(exits);
    clearTimeout(timer);
    await closeCore(core, control.admin);
  });

  return { runtime, url, adminUrl: control.adminUrl, shutdown };
}

function sumCounters(all: Counters[], primaryLogErrors: number): Counters {
  const sum: Counters = { requests: { control: 0, champion: 0, challenger: 0 }, shadowSkipped: 0, fallbacks: 0, logWriteErrors: primaryLogErrors };
  for (const c of all) {
    sum.requests.control += c.requests.control;
    sum.requests.champion += c.requests.champion;
    sum.requests.challenger += c.requests.challenger;
    sum.shadowSkipped += c.shadowSkipped;
    sum.fallbacks += c.fallbacks;
    sum.logWriteErrors += c.logWriteErrors;
  }
  return sum;
}
