/**
 * Sending every variant straight to both models (no proxy in between) and classifying each answer.
 * One ModelClient (an undici Pool) per model: each call is bounded by that model's `timeoutMs` and
 * its body is always read to the end, so a connection is never left half-used.
 */
import type { LoadedConfig, Role } from '../config/types.js';
import { decodeBody, readScore, scorePointer } from '../scoring/score.js';
import { ModelClient, type CallResult } from '../upstream/model-client.js';
import type { Pointer } from '../util/json-pointer.js';
import { deriveVariants, renderVariant, type JsonObject } from './perturb.js';
import { summarize, type CallOutcome, type ProbeResult } from './summary.js';

export const DEFAULT_CONCURRENCY = 8;

export interface ProbeOptions {
  /** Variants in flight at once; each goes to both models, so each model sees at most this many calls. */
  concurrency?: number;
  /** Called after each variant has been answered by both models. */
  onProgress?: (done: number, total: number) => void;
}

export const ROLES: readonly Role[] = Object.freeze(['champion', 'challenger']);
export const PROBE_HEADERS: readonly string[] = Object.freeze(['content-type', 'application/json', 'x-ccrouter-role', 'probe']);

/**
 * Probe both models of a config with the variants of `samples` on the config's first scored route.
 * Resolves once every call has settled; transport failures are results, never rejections.
 */
export async function probeModels(loaded: LoadedConfig, samples: readonly JsonObject[], options: ProbeOptions = {}): Promise<ProbeResult> {
  const { config } = loaded;
  const route = config.routes[0]!;
  const pointer = scorePointer(route);
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const variants = deriveVariants(samples);
  // Each model on its own path, with its own headers and CA, its answers bounded as the proxy bounds them.
  const clients = ROLES.map((role) => new ModelClient(config.models[role], { connections: concurrency, responseBytes: config.limits.responseBytes, role }));
  const outcomes: Record<Role, CallOutcome[]> = { champion: new Array(variants.length), challenger: new Array(variants.length) };

  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < variants.length) {
      const i = next++;
      const body = Buffer.from(renderVariant(samples, variants[i]!), 'utf8');
      const request = { method: route.method, url: route.path, headers: PROBE_HEADERS as string[], body };
      const results = await Promise.all(clients.map((c) => c.request(request)));
      for (let r = 0; r < ROLES.length; r++) outcomes[ROLES[r]!][i] = await classify(results[r]!, pointer, config.limits.responseBytes);
      options.onProgress?.(++done, variants.length);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, variants.length) }, worker));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  return summarize({ loaded, samples: samples.length, variants, outcomes });
}

/**
 * The probe's reading of an answer (docs/probe.md, "Reading the result"): its class; which classes
 * are failures depends on the variant's kind (summary.ts, isFailure).
 */
export async function classify(result: CallResult, pointer: Pointer, maxBytes: number): Promise<CallOutcome> {
  if (!result.ok) return { type: 'connectionError', message: `${result.kind}: ${result.message}` };
  const { status } = result;
  if (status >= 500) return { type: 'status5xx', message: `status ${status}` };
  if (status >= 400) return { type: 'status4xx', message: `status ${status}` };
  // A 1xx/3xx final answer carries no score either: the model did not score the body.
  if (status < 200 || status >= 300) return { type: 'noScore', message: `status ${status}` };
  let body: Buffer;
  try {
    body = await decodeBody(result.body, result.contentEncoding, maxBytes);
  } catch (err) {
    return { type: 'noScore', message: `cannot decode body: ${(err as Error).message}` };
  }
  const score = readScore(body, pointer);
  return score.ok ? { type: 'score', score: score.score } : { type: 'noScore', message: score.message };
}
