/** Command-line parsing shared by every command: node:util parseArgs, with errors that name the flag. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CCR_ERR_USAGE } from '../errors.js';

/** parseArgs' messages are long and say "option"; the CLI speaks of flags and names the one at fault. */
export function usageProblem(err: Error): string {
  const code = (err as { code?: unknown }).code;
  const quoted = /'([^']+)'/.exec(err.message)?.[1];
  if (quoted === undefined) return err.message;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${quoted}`;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument ${quoted} (every input is given with a flag)`;
  // "Option '-c, --config <value>' argument missing": name the long flag.
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return `flag ${/--[\w-]+/.exec(quoted)?.[0] ?? quoted} needs a value`;
  return err.message;
}

type Options = NonNullable<ParseArgsConfig['options']>;
/** The parsed flags' values for an options table. */
export type FlagValues<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>['values'];

/** Strict flags only (no positionals); a bad command line throws CCR_ERR_USAGE (exit 2). */
export function parseFlags<O extends Options>(argv: string[], options: O): FlagValues<O> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new CCR_ERR_USAGE(usageProblem(err as Error));
  }
}
