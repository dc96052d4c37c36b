/**
 * One undici Pool per model. A call is bounded by the model's `timeoutMs` from start to the last
 * byte of the body (undici's own 300 s defaults never apply) and can be canceled at any time.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { IncomingHttpHeaders } from 'undici/types/header.js';
import type { ModelConfig } from '../config/types.js';
import { CallAborted, classifyTransportError, type TransportErrorKind } from './classify.js';

export interface CallRequest {
  method: string;
  /** Path and query as received; the model URL's path is prepended. */
  url: string;
  /** Flat [name, value, name, value, ...] list, hop-by-hop headers already removed. */
  headers: string[];
  body: Buffer | null;
}

export type CallResult =
  | { ok: true; status: number; headers: IncomingHttpHeaders; body: Buffer; latencyMs: number }
  | { ok: false; kind: TransportErrorKind; message: string; latencyMs: number };

export interface Call {
  readonly result: Promise<CallResult>;
  /** Abort the call; it settles with kind `canceled` unless it already settled. */
  cancel(message: string): void;
}

export interface ModelClientOptions {
  /** Connections per origin at most (undici's default is unlimited). */
  connections?: number;
}

export class ModelClient {
  readonly model: ModelConfig;
  readonly #pool: Pool;
  readonly #prefix: string;
  readonly #inflight = new Set<AbortController>();

  constructor(model: ModelConfig, options: ModelClientOptions = {}) {
    this.model = model;
    const url = new URL(model.url);
    this.#prefix = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
    this.#pool = new Pool(url.origin, {
      connections: options.connections ?? 1024,
      connect: { timeout: model.timeoutMs },
      headersTimeout: model.timeoutMs,
      bodyTimeout: model.timeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  get inflight(): number {
    return this.#inflight.size;
  }

  call(req: CallRequest): Call {
    const controller = new AbortController();
    const timeoutMs = this.model.timeoutMs;
    const timer = setTimeout(() => controller.abort(new CallAborted('timeout', `no complete answer within ${timeoutMs} ms`)), timeoutMs);
    this.#inflight.add(controller);
    const start = performance.now();
    const result = this.#run(req, controller.signal, start).finally(() => {
      clearTimeout(timer);
      this.#inflight.delete(controller);
    });
    return {
      result,
      cancel: (message) => {
        if (!controller.signal.aborted) controller.abort(new CallAborted('canceled', message));
      },
    };
  }

  async #run(req: CallRequest, signal: AbortSignal, start: number): Promise<CallResult> {
    try {
      const res = await this.#pool.request({
        method: req.method as 'POST',
        path: this.#prefix + req.url,
        headers: req.headers,
        body: req.body,
        signal,
      });
      const chunks: Buffer[] = [];
      for await (const chunk of res.body) chunks.push(chunk as Buffer);
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      return { ok: true, status: res.statusCode, headers: res.headers, body, latencyMs: round2(performance.now() - start) };
    } catch (err) {
      const { kind, message } = classifyTransportError(signal.aborted ? signal.reason : err);
      return { ok: false, kind, message, latencyMs: round2(performance.now() - start) };
    }
  }

  /** Cancel every call in flight (shutdown grace expired). */
  cancelAll(message: string): void {
    for (const c of this.#inflight) c.abort(new CallAborted('canceled', message));
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  async destroy(): Promise<void> {
    await this.#pool.destroy();
  }
}

export function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}
