/** `ccrouter check`: validate a config and print the effective settings and id. Starts nothing. */
import { parseArgs } from 'node:util';
import { usageProblem } from './args.js';
import { Document } from 'yaml';
import type { EnvSources } from '../config/issues.js';
import { readConfigFile } from '../config/load.js';
import type { Config } from '../config/types.js';

export interface CheckIO {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  /** Environment for `${VAR}` substitution (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

export const CHECK_USAGE = `Usage: ccrouter check [--config FILE]

Validate a config file and print the effective configuration (defaults filled in, durations in
milliseconds, sizes in bytes) followed by its id. A value that comes from an environment variable
is printed as written in the file (\${NAME}), never as the variable's text, which may be a secret.

Options:
  -c, --config FILE   config file, YAML or JSON (default: config/ccrouter.yaml)
  -h, --help          show this help

Exit codes: 0 valid, 1 invalid or unreadable config, 2 bad usage.
`;

const DEFAULT_CONFIG = 'config/ccrouter.yaml';

/** Run `ccrouter check` with the arguments after `check`; resolves to the exit code. */
export async function runCheck(argv: string[], io: CheckIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let values: { config?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.stderr.write(`ccrouter check: ${usageProblem(err as Error)} (see ccrouter check --help)\n`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(CHECK_USAGE);
    return 0;
  }
  if (values.config === '') {
    io.stderr.write('ccrouter check: flag --config needs a value (see ccrouter check --help)\n');
    return 2;
  }
  try {
    const { loaded: { config, id, file }, sources } = readConfigFile(values.config ?? DEFAULT_CONFIG, io.env ?? process.env);
    io.stdout.write(`# effective configuration of ${file}\n${printConfig(config, sources)}config id: ${id}\n`);
    return 0;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code !== 'CCR_ERR_CONFIG_INVALID' && code !== 'CCR_ERR_CONFIG_READ') throw err;
    // A config that cannot be used is a failed check (exit 1, README "Commands"), unreadable or invalid alike.
    io.stderr.write(`ccrouter check: ${(err as Error).message}\n`);
    return 1;
  }
}


/**
 * The effective config as YAML, each value from the environment masked: replaced by the string as
 * written in the file (`${TOKEN}`, `Bearer ${TOKEN}`) with a comment saying so.
 */
export function printConfig(config: Config, sources: EnvSources): string {
  const doc = new Document(config);
  for (const { written, segments } of sources.values()) {
    if (!doc.hasIn(segments)) continue;
    const value: unknown = doc.getIn(segments);
    const node = doc.createNode(written);
    node.comment = typeof value === 'string' ? ' from the environment' : ` from the environment: a ${typeof value}`;
    doc.setIn(segments, node);
  }
  // A model's header values are credentials more often than not: never printed, even when written in the file.
  for (const role of ['champion', 'challenger'] as const) {
    for (const [name, value] of Object.entries(config.models[role].headers ?? {})) {
      const at = ['models', role, 'headers', name];
      if (value === null || (doc.getIn(at, true) as { comment?: string } | undefined)?.comment) continue;
      const node = doc.createNode('[not printed]');
      node.comment = ' a header value';
      doc.setIn(at, node);
    }
  }
  return doc.toString();
}
