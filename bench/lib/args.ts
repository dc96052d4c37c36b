/** Command-line handling shared by the bench tools: one way to ask for help and to be told what is wrong. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/** A flag the tool cannot use: the message names the flag and what it expected. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The flags of `args` (no positionals), strictly: `-h`/`--help` prints `usage` and exits 0; an unknown
 * flag, a missing value or a stray argument prints what is wrong and exits 2, as `usageError` does.
 */
export function flags<O extends OptionsConfig>(usage: string, options: O, args: string[] = process.argv.slice(2)): Values<O> {
  let values: Values<O>;
  try {
    values = parseArgs({ args, options: { ...options, ...HELP }, strict: true, allowPositionals: false }).values as Values<O>;
  } catch (err) {
    return usageError(err instanceof Error ? err.message : String(err));
  }
  if ((values as { help?: boolean }).help === true) {
    process.stdout.write(usage);
    process.exit(0);
  }
  return values;
}

type Values<O extends OptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; options: O & typeof HELP; strict: true; allowPositionals: false }>>['values'];

/** Print a usage error (`UsageError` or parseArgs' message) on stderr without a stack, and exit 2. */
export function usageError(message: string): never {
  process.stderr.write(`${message}\nSee --help.\n`);
  process.exit(2);
}

/** `parse()`'s value; a `UsageError` it throws exits 2 with its message (for flags read at module level). */
export function checked<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof UsageError) usageError(err.message);
    throw err;
  }
}

/**
 * Run a tool's `main`: a `UsageError` exits 2 with its message, any other error 1 with its stack.
 * `cleanup` runs before the exit either way.
 */
export function runMain(main: () => Promise<void>, cleanup: () => Promise<void> | void = () => undefined): void {
  main().then(
    () => cleanup(),
    async (err: unknown) => {
      await cleanup();
      if (err instanceof UsageError) usageError(err.message);
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

/** A number > 0 (≥ 0 with `allowZero`) from a flag's raw value; `fallback` when the flag is absent. */
export function positive(name: string, v: string | undefined, fallback: number, allowZero = false): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new UsageError(`${name}: expected a number ${allowZero ? '>=' : '>'} 0, got ${JSON.stringify(v)}`);
  return n;
}

/** A whole number > 0 (≥ 0 with `allowZero`); `fallback` when the flag is absent. */
export function count(name: string, v: string | undefined, fallback: number, allowZero = false): number {
  const n = positive(name, v, fallback, allowZero);
  if (!Number.isInteger(n)) throw new UsageError(`${name}: expected a whole number, got ${JSON.stringify(v)}`);
  return n;
}

/** Node flags from a space-separated flag value (`--node-args=...`); empty for ''. */
export function nodeFlags(v: string): string[] {
  return v.split(' ').filter(Boolean);
}

/** One of `allowed` (`fallback` when the flag is absent). */
export function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`${name}: expected ${allowed.join(' | ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** A comma-separated list, each item one of `allowed` (`fallback` when the flag is absent). */
export function listOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[], fallback: readonly T[]): T[] {
  if (v === undefined) return [...fallback];
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`${name}: expected a comma-separated list of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  for (const i of items) if (!(allowed as readonly string[]).includes(i)) throw new UsageError(`${name}: unknown ${JSON.stringify(i)} (expected ${allowed.join(', ')})`);
  return items as T[];
}

/** A comma-separated list of numbers > 0 (`fallback` when the flag is absent). */
export function numberList(name: string, v: string | undefined, fallback: readonly number[]): number[] {
  if (v === undefined) return [...fallback];
  return v.split(',').map((r) => positive(name, r.trim(), 0));
}
