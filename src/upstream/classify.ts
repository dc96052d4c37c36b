/** Mapping transport failures to outcome kinds (docs/records.md, "Model outcome"), by `err.code`, not instanceof. */

export type TransportErrorKind = 'timeout' | 'connect' | 'canceled' | 'too_large';

/** Reasons ccrouter aborts a call with; undici rejects with the signal's reason as is. */
export class CallAborted extends Error {
  constructor(readonly kind: 'timeout' | 'canceled' | 'too_large', message: string) {
    super(message);
    this.name = 'CallAborted';
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

export function classifyTransportError(err: unknown): { kind: TransportErrorKind; message: string } {
  if (err instanceof CallAborted) return { kind: err.kind, message: err.message };
  const e = err as { code?: string; message?: string } | null;
  const code = e?.code ?? '';
  const message = e?.message ? (code ? `${code}: ${e.message}` : e.message) : String(err);
  if (TIMEOUT_CODES.has(code)) return { kind: 'timeout', message };
  if (code === 'UND_ERR_ABORTED') return { kind: 'canceled', message };
  // ECONNREFUSED, ECONNRESET, EPIPE, UND_ERR_SOCKET, content-length mismatch, DNS...: the model
  // could not be reached or its answer was cut: a connect-class failure (502 when served).
  return { kind: 'connect', message };
}
