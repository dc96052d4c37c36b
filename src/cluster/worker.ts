/**
 * A `serve --workers N` worker: takes the primary's state, serves the shared public port, writes
 * `pairs-w<k>.jsonl`, follows every state change, and reports counters and compact records (for the
 * primary's guardrails) in small batches.
 */
import { startServer } from '../server.js';
import { isMessage, toView, type PairView, type ToPrimary, type ToWorker } from './messages.js';

const REPORT_MS = 100;

export async function runWorker(k: number): Promise<number> {
  const send = (m: ToPrimary) => process.send?.(m);
  const first = await new Promise<ToWorker & { type: 'ccr:state' }>((resolve) => {
    const onMessage = (m: unknown) => {
      if (isMessage<ToWorker>(m) && m.type === 'ccr:state') {
        process.off('message', onMessage);
        resolve(m);
      }
    };
    process.on('message', onMessage);
    // Messages that arrive before a listener exists are dropped: ask only once listening.
    send({ type: 'ccr:hello' });
  });
  const server = await startServer(first.state.file, { worker: k, admin: false });
  const rt = server.runtime;
  rt.importState(first.state);

  let pairs: PairView[] = [];
  // Only guardrails need the records in the primary; without them nothing is forwarded.
  rt.recorder.onPair((r) => {
    if (rt.fileConfig.config.guardrails !== undefined) pairs.push(toView(r));
  });
  const report = () => {
    send({ type: 'ccr:report', counters: rt.recorder.counters(), pairs });
    pairs = [];
  };
  const timer = setInterval(report, REPORT_MS);
  timer.unref();

  let stopping: Promise<void> | null = null;
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  // Told by the primary, which already waited out shutdownDelayMs: no delay of its own.
  const stop = (delay: boolean) => (stopping ??= server.shutdown({ delay }).then(() => {
    clearInterval(timer);
    report();
    stopped();
  }));
  process.on('message', (m: unknown) => {
    if (!isMessage<ToWorker>(m)) return;
    if (m.type === 'ccr:state') rt.importState(m.state);
    else if (m.type === 'ccr:metrics') void rt.metrics.registry.getMetricsAsJSON().then((metrics) => send({ type: 'ccr:metrics', id: m.id, metrics }));
    else if (m.type === 'ccr:shutdown') void (stopping === null ? stop(false) : server.shutdown());
  });
  // A signal sent to the whole process group (Ctrl-C) reaches workers directly.
  // A second signal ends what is left of the delay, as in a single process.
  const signalled = () => void (stopping === null ? stop(true) : server.shutdown());
  process.on('SIGTERM', signalled);
  process.on('SIGINT', signalled);
  send({ type: 'ccr:ready', url: server.url });
  await done;
  process.disconnect?.();
  return 0;
}
