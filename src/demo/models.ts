/**
 * The two built-in demo models: plain node:http servers (no framework, so they never dominate
 * the latencies the demo reports) scoring transactions with a fixed logistic model.
 *
 * The challenger is better for an honest reason: it is a refit close to the model the demo's
 * labels are drawn from (data.ts), while the champion is a stale model that predates a feature.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DemoModelSpec, type Features, probability } from './data.js';

/**
 * fraud-v7, the champion: trained before device fingerprinting existed (no `deviceNew`), models the
 * time of day as a linear trend where the true effect is a night-time bump, and was fit when fraud
 * was mostly small card-testing purchases, so it all but ignores the amount (0.15 where the truth
 * has 0.6: larger payments are likelier fraud). It under-weights merchant risk and velocity and
 * lumps the riskier markets together. It ranks worse, misses frauds at 0.5, and the frauds it
 * misses are the expensive ones: at the same decline rate the challenger stops more fraud money.
 */
export const CHAMPION_MODEL: Readonly<DemoModelSpec> = Object.freeze({
  intercept: -2.4,
  amount: 0.15,
  merchantRisk: 2.0,
  accountAge: -0.3,
  velocity: 0.3,
  night: 0,
  hour: -0.4,
  deviceNew: 0,
  country: Object.freeze({ BR: 0.4, IN: 0.4 }),
});

/** fraud-v8, the challenger: refit on recent data; its weights differ from the truth by estimation error only. */
export const CHALLENGER_MODEL: Readonly<DemoModelSpec> = Object.freeze({
  intercept: -4.3,
  amount: 0.6,
  merchantRisk: 3.4,
  accountAge: -0.5,
  velocity: 0.5,
  night: 1.3,
  hour: 0,
  deviceNew: 2.0,
  country: Object.freeze({ GB: 0.1, DE: -0.3, FR: 0.1, BR: 1.0, IN: 0.8 }),
});

export const CHAMPION_VERSION = 'fraud-v7';
export const CHALLENGER_VERSION = 'fraud-v8';

const BODY_LIMIT = 1024 * 1024;
/** Instances scored per batch request at most. */
const MAX_ROWS = 10_000;
const TFSERVING_PATH = '/v1/models/fraud:predict';
// Past this, a client that never finishes its request must not keep close() waiting.
const CLOSE_GRACE_MS = 1000;

const num = (v: unknown, fallback: number, lo: number, hi: number): number =>
  typeof v === 'number' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : fallback;

/**
 * The request document as features: a transaction object, or a KServe v2 inference request whose
 * `inputs` are named one-element tensors. Missing or mistyped fields take a typical value and
 * numbers are clamped, so any JSON object gets a finite score (the robustness probe relies on it).
 * Null when the document is not an object at all.
 */
export function features(doc: unknown): Features | null {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return null;
  let f = doc as Record<string, unknown>;
  if (Array.isArray(f['inputs'])) {
    f = {};
    for (const input of (doc as { inputs: unknown[] }).inputs) {
      const { name, data } = (input ?? {}) as { name?: unknown; data?: unknown };
      if (typeof name === 'string' && Array.isArray(data)) f[name] = data[0];
    }
  }
  const hour = num(f['hour'], 12, 0, 23);
  return {
    amount: num(f['amount'], 60, 0, 1e9),
    country: typeof f['country'] === 'string' ? f['country'] : '',
    merchantRisk: num(f['merchantRisk'], 0.33, 0, 1),
    accountAgeDays: num(f['accountAgeDays'], 365, 0, 36500),
    velocity1h: num(f['velocity1h'], 1, 0, 1000),
    hour: Math.floor(hour),
    deviceNew: f['deviceNew'] === true,
  };
}

/**
 * A KServe v2 batch (docs/requests.md#batches): named tensors of n values each are n transactions,
 * row i taking every input's i-th value. Null when `doc` has no `inputs` list.
 */
export function kserveRows(doc: unknown): Record<string, unknown>[] | null {
  const inputs = doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? (doc as { inputs?: unknown }).inputs : undefined;
  if (!Array.isArray(inputs)) return null;
  let n = 1;
  for (const input of inputs) {
    const data = (input ?? {}) as { data?: unknown };
    if (Array.isArray(data.data)) n = Math.max(n, data.data.length);
  }
  return Array.from({ length: Math.min(n, MAX_ROWS) }, (_, i) => {
    const row: Record<string, unknown> = {};
    for (const input of inputs) {
      const { name, data } = (input ?? {}) as { name?: unknown; data?: unknown };
      if (typeof name === 'string' && name !== '__proto__' && Array.isArray(data)) row[name] = data[i];
    }
    return row;
  });
}

/** The model's score for a parsed request body, or null when the body is not a JSON object. */
export function scoreDocument(spec: Readonly<DemoModelSpec>, doc: unknown): number | null {
  const f = features(doc);
  return f === null ? null : probability(spec, f);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if ((size += chunk.length) > BODY_LIMIT) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

interface ModelServer {
  url: string;
  version: string;
  close(): Promise<void>;
}

async function startModel(spec: Readonly<DemoModelSpec>, version: string, host: string, delayMs: number): Promise<ModelServer> {
  // Aborted on close so delayed answers go out at once instead of holding close() up.
  const closing = new AbortController();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    const kserve = path === '/v2/models/fraud/infer';
    const tfserving = path === TFSERVING_PATH;
    if (!kserve && !tfserving && path !== '/score' && path !== '/predict') return send(res, 404, { error: 'not_found' });
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return send(res, 405, { error: 'method_not_allowed' });
    }
    const raw = await readBody(req);
    if (raw === null) {
      res.setHeader('connection', 'close');
      return send(res, 413, { error: 'too_large' });
    }
    let doc: unknown;
    try {
      doc = JSON.parse(raw.toString('utf8'));
    } catch {
      return send(res, 400, { error: 'bad_request' });
    }
    // One transaction, or a batch: TF Serving's `instances`, KServe v2 tensors of several values.
    const instances = (doc as { instances?: unknown } | null)?.instances;
    const rows = tfserving ? (Array.isArray(instances) && instances.length <= MAX_ROWS ? instances : null) : kserve ? kserveRows(doc) ?? [doc] : [doc];
    const ps = rows?.map((row) => scoreDocument(spec, row)) ?? null;
    if (ps === null || ps.length === 0 || ps.some((p) => p === null)) return send(res, 400, { error: 'bad_request' });
    if (delayMs > 0) await sleep(delayMs, undefined, { signal: closing.signal }).catch(() => {});
    if (closing.signal.aborted) res.setHeader('connection', 'close');
    const scores = ps as number[];
    if (tfserving) return send(res, 200, { predictions: scores.map((p) => [1 - p, p]) });
    if (!kserve) return send(res, 200, { score: scores[0], model: version });
    send(res, 200, {
      model_name: 'fraud',
      model_version: version,
      outputs: [{ name: 'score', datatype: 'FP32', shape: [scores.length, 2], data: scores.flatMap((p) => [1 - p, p]) }],
    });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // The client went away mid-body; nothing left to answer.
      if (!res.headersSent) res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    version,
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        closing.abort();
        server.closeIdleConnections();
      }),
  };
}

export interface DemoModelsOptions {
  /** Interface to bind (default 127.0.0.1); the port is always chosen by the OS. */
  host?: string;
  /** Artificial latency added to every champion answer, in ms. */
  championDelayMs?: number;
  /** Artificial latency added to every challenger answer, in ms. */
  challengerDelayMs?: number;
}

export interface DemoModels {
  champion: { url: string; version: string };
  challenger: { url: string; version: string };
  /** Stops both servers, closing idle keep-alive connections; resolves within about a second. */
  close(): Promise<void>;
}

/**
 * Start the champion (fraud-v7) and challenger (fraud-v8) demo models. Each answers
 * `POST /score` and `POST /predict` with `{"score": p, "model": version}`,
 * `POST /v2/models/fraud/infer` in KServe v2 form (a batch when the tensors hold several values)
 * and `POST /v1/models/fraud:predict` in TF Serving form (`instances` → `predictions`, a batch);
 * each score is a pure function of its transaction.
 */
export async function startDemoModels(opts: DemoModelsOptions = {}): Promise<DemoModels> {
  const host = opts.host ?? '127.0.0.1';
  const champion = await startModel(CHAMPION_MODEL, CHAMPION_VERSION, host, opts.championDelayMs ?? 0);
  let challenger: ModelServer;
  try {
    challenger = await startModel(CHALLENGER_MODEL, CHALLENGER_VERSION, host, opts.challengerDelayMs ?? 0);
  } catch (err) {
    await champion.close();
    throw err;
  }
  return {
    champion: { url: champion.url, version: champion.version },
    challenger: { url: challenger.url, version: challenger.version },
    close: async () => {
      await Promise.all([champion.close(), challenger.close()]);
    },
  };
}
