/** `ccrouter serve`: run the proxy until SIGTERM/SIGINT; reload on SIGHUP and on file change. */
import { parseFlags } from './args.js';
import { loadServingConfig } from '../config/serving.js';
import { watchConfigFile } from '../config/reload.js';
import { CCR_ERR_USAGE } from '../errors.js';
import { applyReload } from '../runtime/reload.js';
import cluster from 'node:cluster';
import { runWorker } from '../cluster/worker.js';
import { startPrimary } from '../cluster/primary.js';
import { startServer } from '../server.js';

export const SERVE_USAGE = `Usage: ccrouter serve [--config FILE] [--workers N]

Run the proxy. Reloads the config on SIGHUP and when the file changes; SIGTERM/SIGINT turn
/readyz to 503, keep serving for shutdownDelayMs (a second signal cuts it short), then drain
gracefully (at most shutdownGraceMs) and exit 0.

Options:
  -c, --config FILE   config file, YAML or JSON (default: config/ccrouter.yaml)
  -w, --workers N     worker processes sharing the public port (default 1)
  -h, --help          show this help
`;

export async function runServe(argv: string[]): Promise<number> {
  const values = parseFlags(argv, { config: { type: 'string', short: 'c' }, workers: { type: 'string', short: 'w' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  const workers = values.workers === undefined ? 1 : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new CCR_ERR_USAGE(`--workers: must be an integer >= 1, got ${JSON.stringify(values.workers)}`);
  const file = values.config ?? 'config/ccrouter.yaml';
  if (cluster.isWorker) return runWorker(Number(process.env.CCROUTER_WORKER));
  const loaded = loadServingConfig(file);
  const server = workers > 1 ? await startPrimary(loaded, workers, ['serve', ...argv]) : await startServer(loaded);

  // Last resort: a bug must not lose the records already answered.
  process.on('uncaughtException', (err) => {
    process.stderr.write(`ccrouter: uncaught error, flushing records and exiting: ${err.stack ?? err.message}\n`);
    server.runtime.recorder.flush();
    process.exit(1);
  });

  const reload = (force: boolean) => applyReload(server.runtime, file, force);
  const stopWatching = watchConfigFile(file, () => reload(false));
  process.on('SIGHUP', () => reload(true));

  await new Promise<void>((resolve) => {
    // Handlers stay: a second signal ends what is left of shutdownDelayMs rather than the process.
    const stop = () => {
      stopWatching();
      void server.shutdown().then(resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    // Announced only once every signal handler is in place: a supervisor may signal right after.
    process.stdout.write(`ccrouter ${loaded.id} serving on ${server.url} (admin ${server.adminUrl}), records in ${loaded.config.logging.dir}\n`);
  });
  return 0;
}
