#!/usr/bin/env node
/** The `ccrouter` command: parse the subcommand, run it, map errors to exit codes (README.md, "Commands"). */
import { exitCodeFor } from './errors.js';

const USAGE = `Usage: ccrouter <command> [options]

Commands:
  serve      run the proxy                          ccrouter serve [--config FILE] [--workers N]
  demo       the whole loop on built-in models      ccrouter demo [--requests N] [--out DIR]
  report     compare the models from the records    ccrouter report --logs DIR [--outcomes FILE]... [--format text|json|html]
  compact    pair files to Parquet                  ccrouter compact --logs DIR [--out DIR2] [--all] [--delete]
  calibrate  score normalization tables             ccrouter calibrate --logs DIR [--outcomes FILE]... [--out FILE]
  probe      robustness probe of both models        ccrouter probe --config FILE --samples FILE [--out FILE]
  check      validate a config, print its id        ccrouter check --config FILE

Run 'ccrouter <command> --help' for a command's options.
`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./commands/serve.js')).runServe,
  demo: async () => (await import('./commands/demo.js')).runDemo,
  report: async () => (await import('./commands/report.js')).runReport,
  calibrate: async () => (await import('./commands/calibrate.js')).runCalibrate,
  compact: async () => (await import('./commands/compact.js')).runCompact,
  probe: async () => (await import('./commands/probe.js')).runProbe,
  check: async () => (await import('./commands/check.js')).runCheck,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`ccrouter: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    return 2;
  }
  const command = await load();
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // A stray handle (a client's socket, a watcher) must not keep a finished command alive.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (err: Error) => {
    process.stderr.write(`ccrouter: ${err.message}\n`);
    process.exitCode = exitCodeFor(err);
  },
);
