/**
 * Every error ccrouter raises, in one place. Codes are stable: match on `err.code`.
 * Each code is documented in docs/errors.md (a test checks it).
 */
import createError from '@fastify/error';

/** A config file that cannot be used; the message names the path (`traffic.challenger: must be <= 1`). */
export const CCR_ERR_CONFIG_INVALID = createError('CCR_ERR_CONFIG_INVALID', '%s');
/** A config file that cannot be read or parsed (missing, unreadable, not YAML/JSON). */
export const CCR_ERR_CONFIG_READ = createError('CCR_ERR_CONFIG_READ', '%s');
/** A command-line usage error: unknown flag, missing value, bad value. */
export const CCR_ERR_USAGE = createError('CCR_ERR_USAGE', '%s');
/** Input data that cannot be used (missing log directory, no records, bad outcomes file). */
export const CCR_ERR_INPUT = createError('CCR_ERR_INPUT', '%s');
/** The calibration table cannot be built or read. */
export const CCR_ERR_CALIBRATION = createError('CCR_ERR_CALIBRATION', '%s');
/**
 * A model answered a status outside 100-599 (HTTP/1.1's grammar allows any three digits). Never
 * thrown: the call fails as a broken answer (kind `connect`) with this code in its message.
 */
export const CCR_ERR_BAD_STATUS = createError('CCR_ERR_BAD_STATUS', 'model answered status %s, outside 100-599');

/** Exit code for an error: 2 for bad usage or bad input, 1 for everything else (SPEC 2). */
export function exitCodeFor(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'CCR_ERR_USAGE' || code === 'CCR_ERR_INPUT' || code === 'CCR_ERR_CONFIG_INVALID' ||
    code === 'CCR_ERR_CONFIG_READ' || code === 'CCR_ERR_CALIBRATION'
    ? 2
    : 1;
}
