/**
 * One undici Pool per model. A call is bounded by the model's `timeoutMs` from start to the last
 * byte of the body (undici's own 300 s defaults never apply) and can be canceled at any time.
 *
 * Hot path: a call is one object that is at once undici's dispatch handler (it collects the body
 * chunks itself: no stream, no async iterator) and a node of the client's deadline list. Every call
 * of a client has the same timeout, so deadlines are in start order: one timer per client, armed for
 * the oldest call still running, replaces a timer and an AbortController per call.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import type { ModelConfig } from '../config/types.js';
import { DEFAULTS } from '../config/sections/rules.js';
import { CCR_ERR_BAD_STATUS } from '../errors.js';
import { Chunks } from '../util/chunks.js';
import { CallAborted, classifyTransportError, type TransportErrorKind } from './classify.js';
import { DeadlineList, type DeadlineNode } from './deadlines.js';
import { ModelRequest } from './model-request.js';
import { trustedCas } from './tls.js';

export interface CallRequest {
  method: string;
  /** Path and query as received; the model's own path for it (`paths`) and the URL's path prefix apply. */
  url: string;
  /** Flat [name, value, name, value, ...] list, hop-by-hop headers already removed; the model's `headers` apply. */
  headers: string[];
  body: Buffer | null;
}

export interface CallOk {
  readonly ok: true;
  readonly status: number;
  /** The answer's headers as undici parsed them: names lower-cased, a repeated header an array. */
  readonly headers: IncomingHttpHeaders;
  /** The first content-encoding header, if any. */
  readonly contentEncoding: string | undefined;
  readonly body: Buffer;
  readonly latencyMs: number;
}

export interface CallFailed {
  readonly ok: false;
  readonly kind: TransportErrorKind;
  readonly message: string;
  readonly latencyMs: number;
}

export type CallResult = CallOk | CallFailed;

export type CallListener = (result: CallResult) => void;

export interface Call {
  /** Abort the call; it settles with kind `canceled` unless it already settled. */
  cancel(message: string): void;
}

export interface ModelClientOptions {
  /** Connections per origin at most (undici's default is unlimited; here SERVED_CONNECTIONS). */
  connections?: number;
  /** `limits.responseBytes`: a longer answer fails the call (kind `too_large`) as it arrives. */
  responseBytes?: number;
  /** `role` of the model, for messages naming its settings. */
  role?: string;
}

/**
 * Connections a model's pool keeps for served calls beyond `traffic.shadowLimit`: shadow calls (at
 * most shadowLimit in flight) can then never take every connection and make served calls wait.
 */
export const SERVED_CONNECTIONS = 1024;

class OkResult implements CallOk {
  readonly ok = true as const;
  constructor(
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    readonly contentEncoding: string | undefined,
    readonly body: Buffer,
    readonly latencyMs: number,
  ) {}
}

type Controller = Dispatcher.DispatchController;

/**
 * One call: undici's dispatch handler (its controller API) and a node of the deadline list. Once
 * settled it lets go of everything (undici's controller holds its request: headers and body), so a
 * caller that keeps the Call handle keeps only this small object.
 */
class ModelCall extends Chunks implements Call, Dispatcher.DispatchHandler, DeadlineNode<ModelCall> {
  prev: ModelCall | null = null;
  next: ModelCall | null = null;
  readonly deadline: number;
  #listener: CallListener | null;
  #controller: Controller | null = null;
  /** Why the call was aborted before undici started it (and handed over its controller). */
  #pendingAbort: CallAborted | null = null;
  #status = 0;
  #headers: IncomingHttpHeaders | null = null;
  #contentEncoding: string | undefined = undefined;
  #settled = false;
  /** Inside pool.dispatch: a result now would reach the caller before call() returned. */
  dispatching = true;

  constructor(readonly client: ModelClient, readonly start: number, listener: CallListener) {
    super();
    this.deadline = start + client.model.timeoutMs;
    this.#listener = listener;
  }

  cancel(message: string): void {
    this.abortWith(new CallAborted('canceled', message));
  }

  abortWith(reason: CallAborted): void {
    if (this.#settled) return;
    if (this.#controller !== null) {
      // undici calls onResponseError(reason) synchronously; settle here in case it did not.
      const controller = this.#controller;
      this.#controller = null;
      controller.abort(reason);
    } else {
      // Still queued in the pool: abort as soon as undici starts it.
      this.#pendingAbort = reason;
    }
    this.#fail(reason);
  }

  // --- undici dispatch handler (docs/reliability.md: what a broken answer is) ---
  onRequestStart(controller: Controller): void {
    if (this.#pendingAbort !== null) controller.abort(this.#pendingAbort);
    else this.#controller = controller;
  }

  onResponseStart(controller: Controller, status: number, headers: IncomingHttpHeaders): void {
    if (status < 100 || status > 599) {
      // No caller can be sent such a status: a broken answer.
      const err = new CCR_ERR_BAD_STATUS(status);
      controller.abort(err);
      this.#fail(err);
      return;
    }
    // A declared length over the limit fails at once, before any of the body is read (204 and 304
    // carry no body whatever their content-length says).
    const declared = headers['content-length'];
    if (typeof declared === 'string' && status !== 204 && status !== 304 && Number(declared) > this.client.responseBytes) return this.#tooLarge();
    this.#status = status;
    this.#headers = headers;
    const encoding = headers['content-encoding'];
    this.#contentEncoding = typeof encoding === 'string' ? encoding : encoding?.[0];
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    if (this.#settled) return;
    this.add(chunk);
    // Counted as it arrives: an endless answer never sits in memory whole.
    if (this.size > this.client.responseBytes) this.#tooLarge();
  }

  #tooLarge(): void {
    this.take();
    this.abortWith(new CallAborted('too_large', `answer larger than limits.responseBytes (${this.client.responseBytes} bytes)`));
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.client.unlink(this);
    const result = new OkResult(this.#status, this.#headers ?? {}, this.#contentEncoding, this.take(), round2(performance.now() - this.start));
    this.#headers = null;
    this.#deliver(result);
  }

  /** Without a controller when the pool refused the call before starting it. */
  onResponseError(_controller: Controller | null, err: Error): void {
    this.#fail(err);
  }

  #fail(err: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.client.unlink(this);
    const { kind, message } = classifyTransportError(err);
    this.#deliver({ ok: false, kind, message, latencyMs: round2(performance.now() - this.start) });
  }

  #deliver(result: CallResult): void {
    const listener = this.#listener!;
    this.#listener = null;
    this.#controller = null;
    if (this.dispatching) process.nextTick(listener, result);
    else listener(result);
  }
}

export class ModelClient {
  readonly model: ModelConfig;
  /** The pool's connection limit. */
  readonly maxConnections: number;
  /** An answer longer than this fails the call (kind `too_large`). */
  readonly responseBytes: number;
  readonly #pool: Pool;
  readonly #request: ModelRequest;
  /** Why every call fails at once (the CA file could not be read when the pool was made); null: it can be called. */
  readonly #unusable: string | null = null;
  readonly #calls: DeadlineList<ModelCall>;

  constructor(model: ModelConfig, options: ModelClientOptions = {}) {
    this.model = model;
    const url = new URL(model.url);
    const expired = `no complete answer within ${model.timeoutMs} ms`;
    this.#calls = new DeadlineList((call) => call.abortWith(new CallAborted('timeout', expired)));
    this.#request = new ModelRequest(model);
    this.maxConnections = options.connections ?? SERVED_CONNECTIONS;
    this.responseBytes = options.responseBytes ?? DEFAULTS.responseBytes;
    let ca: string[] | undefined;
    try {
      ca = trustedCas(model, options.role ?? 'model');
    } catch (err) {
      // Checked when the config was read; gone since: calls fail, visibly, rather than the process.
      this.#unusable = (err as Error).message;
    }
    this.#pool = new Pool(url.origin, {
      connections: this.maxConnections,
      connect: ca === undefined ? { timeout: model.timeoutMs } : { timeout: model.timeoutMs, ca },
      // The deadline list bounds every call; undici's own per-request timers would only add work.
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 4_000,
    });
  }

  get inflight(): number {
    return this.#calls.size;
  }

  /**
   * Start a call; `listener` gets its result exactly once, never before call() returned (transport
   * failures included: a call never throws).
   */
  call(req: CallRequest, listener: CallListener): Call {
    const call = new ModelCall(this, performance.now(), listener);
    this.#calls.add(call);
    const r = this.#request;
    if (this.#unusable !== null) call.onResponseError(null, new Error(this.#unusable));
    else this.#pool.dispatch({ method: req.method, path: r.target(req.url), headers: r.headers(req.headers), body: req.body }, call);
    call.dispatching = false;
    return call;
  }

  /** The same call as a promise (probe and tests). */
  request(req: CallRequest): Promise<CallResult> {
    return new Promise((resolve) => this.call(req, resolve));
  }

  /** Cancel every call in flight (shutdown grace expired). */
  cancelAll(message: string): void {
    const reason = new CallAborted('canceled', message);
    this.#calls.forEach((c) => c.abortWith(reason));
  }

  async close(): Promise<void> {
    await this.#pool.close();
    this.#calls.disarm();
  }

  async destroy(): Promise<void> {
    await this.#pool.destroy();
    this.#calls.disarm();
  }

  /** @internal: a settled call leaves the deadline list. */
  unlink(call: ModelCall): void {
    this.#calls.remove(call);
  }
}

export function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}
