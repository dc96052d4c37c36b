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

/**
 * The error answers ccrouter writes itself over HTTP, by their `error` code: the status and the
 * message used where the answering place has nothing more precise to say. Codes are stable: clients
 * match on `error`. Each is documented in docs/errors.md with the same status (a test checks it).
 */
export const HTTP_ERRORS = {
  bad_request: { status: 400, message: 'the request could not be parsed' },
  unauthorized: { status: 401, message: 'missing or wrong bearer token' },
  forbidden: { status: 403, message: 'no admin token is configured (admin.tokenEnv)' },
  not_found: { status: 404, message: 'no such route' },
  method_not_allowed: { status: 405, message: 'method not allowed on this route' },
  client_timeout: { status: 408, message: 'request not complete within limits.headersTimeoutMs or limits.requestTimeoutMs' },
  too_large: { status: 413, message: 'request body is too large' },
  headers_too_large: { status: 431, message: 'request header section is over 16 KiB' },
  internal_error: { status: 500, message: 'ccrouter failed on this request' },
  upstream_connect: { status: 502, message: 'the model could not be reached or its answer was broken' },
  upstream_too_large: { status: 502, message: "the model's answer was larger than limits.responseBytes" },
  shutting_down: { status: 503, message: 'the model call was canceled at shutdown' },
  write_failed: { status: 503, message: 'the data could not be written' },
  upstream_timeout: { status: 504, message: 'the model did not answer in time' },
} as const satisfies Record<string, { status: number; message: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** The one body of every error answer ccrouter writes (docs/errors.md#http-answers-from-ccrouter-itself). */
export interface HttpErrorBody {
  error: HttpErrorCode;
  message: string;
  /** The request's id, wherever a request exists (not on an answer written before one was parsed). */
  requestId?: string;
  /** The version of the model that failed, on 502/503/504 for a model call. */
  model?: string;
}

/** The body of `code`'s answer; `message` defaults to the code's own (`HTTP_ERRORS`). */
export function httpErrorBody(code: HttpErrorCode, message?: string, requestId?: string, model?: string): HttpErrorBody {
  const body: HttpErrorBody = { error: code, message: message ?? HTTP_ERRORS[code].message };
  if (requestId !== undefined) body.requestId = requestId;
  if (model !== undefined) body.model = model;
  return body;
}

/** Exit code for an error: 2 for bad usage or bad input, 1 for everything else (docs/errors.md). */
export function exitCodeFor(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'CCR_ERR_USAGE' || code === 'CCR_ERR_INPUT' || code === 'CCR_ERR_CONFIG_INVALID' ||
    code === 'CCR_ERR_CONFIG_READ' || code === 'CCR_ERR_CALIBRATION'
    ? 2
    : 1;
}
