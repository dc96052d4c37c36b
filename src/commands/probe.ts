/** `ccrouter probe`: robustness probe of both models before ramping (docs/probe.md). */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { usageProblem } from './args.js';
import { loadConfigFile } from '../config/load.js';
import { CCR_ERR_USAGE } from '../errors.js';
import { renderText } from '../probe/render.js';
import { DEFAULT_CONCURRENCY, probeModels } from '../probe/run.js';
import { readSamples } from '../probe/samples.js';

export interface ProbeIO {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown; isTTY?: boolean };
  /** Environment for `${VAR}` substitution in the config (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

export const PROBE_USAGE = `Usage: ccrouter probe --config FILE --samples FILE [--out FILE] [--concurrency N]

Send perturbed variants of sample request bodies straight to both models of the config, on its
first scored route, and compare how each model copes: 5xx answers, connection errors and timeouts,
answers without a numeric score, and how much the score moves under ±1% numeric jitter.

Options:
  -c, --config FILE      config file, YAML or JSON (models, timeouts, first scored route)
  -s, --samples FILE     sample request bodies: a JSON array of objects, or one JSON object per line
  -o, --out FILE         also write the full result as JSON to FILE
      --concurrency N    variants in flight at once, each sent to both models (default ${DEFAULT_CONCURRENCY})
  -h, --help             show this help

Exit codes: 0 the challenger fails on no kind where the champion does not; 1 it does (the kinds
are listed); 2 bad usage, or a config or samples file that cannot be used.
`;

const MAX_CONCURRENCY = 1024;
// Redrawing the progress line at most this often keeps a fast probe from flooding the terminal.
const PROGRESS_EVERY_MS = 100;

/** Run `ccrouter probe` with the arguments after `probe`; resolves to the exit code. */
export async function runProbe(argv: string[], io: ProbeIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  try {
    const flags = parseFlags(argv);
    if (flags === 'help') {
      io.stdout.write(PROBE_USAGE);
      return 0;
    }
    const loaded = loadConfigFile(flags.config, io.env ?? process.env);
    const samples = readSamples(flags.samples);
    const result = await probeModels(loaded, samples, {
      concurrency: flags.concurrency,
      ...(io.stderr.isTTY === true ? { onProgress: progressLine(io.stderr) } : {}),
    });
    io.stdout.write(renderText(result));
    if (flags.out !== undefined) writeFileSync(resolve(flags.out), JSON.stringify(result, null, 2) + '\n');
    return result.challengerWorse.length > 0 ? 1 : 0;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'CCR_ERR_USAGE') {
      io.stderr.write(`ccrouter probe: ${(err as Error).message} (see ccrouter probe --help)\n`);
      return 2;
    }
    if (code === 'CCR_ERR_INPUT' || code === 'CCR_ERR_CONFIG_INVALID' || code === 'CCR_ERR_CONFIG_READ') {
      io.stderr.write(`ccrouter probe: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}

interface Flags {
  config: string;
  samples: string;
  out?: string;
  concurrency: number;
}

function parseFlags(argv: string[]): Flags | 'help' {
  let values: { config?: string; samples?: string; out?: string; concurrency?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        samples: { type: 'string', short: 's' },
        out: { type: 'string', short: 'o' },
        concurrency: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new CCR_ERR_USAGE(usageProblem(err as Error), { cause: err });
  }
  if (values.help) return 'help';
  for (const flag of ['config', 'samples'] as const) {
    if (values[flag] === undefined) throw new CCR_ERR_USAGE(`flag --${flag} is required`);
  }
  for (const flag of ['config', 'samples', 'out'] as const) {
    if (values[flag] === '') throw new CCR_ERR_USAGE(`flag --${flag} needs a value`);
  }
  let concurrency = DEFAULT_CONCURRENCY;
  if (values.concurrency !== undefined) {
    concurrency = Number(values.concurrency);
    if (!/^\d+$/.test(values.concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
      throw new CCR_ERR_USAGE(`--concurrency: must be an integer from 1 to ${MAX_CONCURRENCY}, got ${JSON.stringify(values.concurrency)}`);
    }
  }
  return {
    config: values.config!,
    samples: values.samples!,
    ...(values.out === undefined ? {} : { out: values.out }),
    concurrency,
  };
}


function progressLine(stderr: ProbeIO['stderr']): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (done < total && now - last < PROGRESS_EVERY_MS) return;
    last = now;
    stderr.write(`\rprobe: ${done}/${total} variants`);
    if (done === total) stderr.write('\n');
  };
}
