/**
 * The admin listener (docs/operations.md#the-admin-listener), on its own host/port: status and
 * metrics for anyone who can reach it, levers and outcomes behind a bearer token. Nothing here is
 * reachable from the public port. It shares the process, so it gets the public listener's timeouts
 * and a connection cap: a caller of this port must not be able to slow or starve the other.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { HTTP_ERRORS, httpErrorBody, type HttpErrorCode } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import type { RecordSink } from '../records/sink.js';
import { clientErrorHandler } from '../http/client-error.js';
import { hashUnit } from '../records/pair.js';
import { checkBearer } from './auth.js';
import { readBody } from './body.js';
import { createOutcomeIntake } from './outcome-writer.js';

export const OUTCOMES_BODY_LIMIT = 16 * 1024 * 1024;
/** `/bypass` and `/rollback` take a few bytes at most. */
export const LEVER_BODY_LIMIT = 64 * 1024;
/** Connections held at once; more are closed as they arrive (docs/reliability.md). */
export const ADMIN_MAX_CONNECTIONS = 64;
/** An idle kept-alive admin connection is closed after this. */
export const ADMIN_KEEP_ALIVE_MS = 5000;

export interface AdminDeps {
  runtime: Runtime;
  outcomes: RecordSink;
  env?: NodeJS.ProcessEnv;
  /** The metrics text (default: the runtime's registry; with workers, aggregated over them). */
  metrics?: () => Promise<string>;
  /** What `/readyz` answers (default: always ready). */
  readiness?: () => 'starting' | 'ready' | 'draining';
}

const MUTATIONS = ['/bypass', '/rollback', '/outcomes'];
const OTHER_METHODS = ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

export async function buildAdminApp(deps: AdminDeps): Promise<FastifyInstance> {
  const { runtime: rt } = deps;
  const env = deps.env ?? process.env;
  const limits = rt.fileConfig.config.limits;
  const app = Fastify({
    logger: false,
    bodyLimit: OUTCOMES_BODY_LIMIT,
    // As on the public listener: both here and in `http`, checked every second.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: ADMIN_KEEP_ALIVE_MS,
    http: { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: 1000 },
    // Every error answer in ccrouter's one shape (docs/errors.md), the parser's included.
    clientErrorHandler,
    frameworkErrors: (err, _request, reply) => void sendError(reply, 'bad_request', `request path is not a valid URL (${err.message})`),
  });
  app.setErrorHandler((err, request, reply) => {
    const e = err as { code?: unknown; statusCode?: unknown; message?: unknown } | null;
    if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(reply, 'too_large', `request body is over ${request.routeOptions.bodyLimit} bytes, the limit of ${request.routeOptions.url}`);
    }
    if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return sendError(reply, 'bad_request', String(e.message));
    return sendError(reply, 'internal_error');
  });
  app.server.maxConnections = ADMIN_MAX_CONNECTIONS;
  // Unknown paths are answered on arrival, as 401, 403 and 405 are: their bodies are never read.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.is404) return void sendError(reply, 'not_found', 'no such admin route');
    done();
  });
  // An answer sent before the body was read closes the connection: Node would otherwise keep
  // reading whatever the caller still trickles in. (A request without a body may be answered before
  // Node marks it complete; its connection stays open.)
  app.addHook('onSend', (request, reply, _payload, done) => {
    const raw = request.raw;
    const hasBody = raw.headers['transfer-encoding'] !== undefined || Number(raw.headers['content-length'] ?? 0) > 0;
    if (hasBody && !raw.complete) reply.header('connection', 'close');
    done();
  });
  const intake = createOutcomeIntake(deps.outcomes);
  // Mutations take any body as bytes; each route parses its own.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', readBody);

  const auth = async (request: FastifyRequest, reply: FastifyReply) => {
    const tokenEnv = rt.fileConfig.config.admin.tokenEnv;
    const result = checkBearer(request.headers.authorization, tokenEnv ? env[tokenEnv] : undefined);
    if (result === 'forbidden') return sendError(reply, 'forbidden');
    if (result === 'unauthorized') return sendError(reply.header('www-authenticate', 'Bearer'), 'unauthorized');
  };

  app.get('/status', async () => rt.status());
  // Probes (docs/operations.md#probes): alive while this listener answers; ready only while serving.
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const status = deps.readiness?.() ?? 'ready';
    return reply.code(status === 'ready' ? 200 : 503).send({ status });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', rt.metrics.registry.contentType);
    return deps.metrics ? deps.metrics() : rt.metrics.registry.metrics();
  });

  app.post('/bypass', { onRequest: auth, bodyLimit: LEVER_BODY_LIMIT }, async (request, reply) => {
    const body = parseJsonBody(request.body);
    if (body === undefined || typeof (body as { on?: unknown }).on !== 'boolean') {
      return sendError(reply, 'bad_request', 'body must be {"on": true|false}');
    }
    rt.setBypass((body as { on: boolean }).on, 'admin');
    return rt.status();
  });

  app.post('/rollback', { onRequest: auth, bodyLimit: LEVER_BODY_LIMIT }, async () => {
    rt.rollback('admin');
    return rt.status();
  });

  app.post('/outcomes', { onRequest: auth }, async (request, reply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const { unit } = rt.fileConfig.config.logging;
    const salt = rt.fileConfig.config.assignment.salt;
    let summary;
    try {
      summary = await intake.take(body, unit === 'hash' ? (key) => hashUnit(key, salt) : null);
    } catch (err) {
      // Some lines of the batch may be in the file: sending it again is harmless (a later label
      // for the same id wins).
      return sendError(reply, 'write_failed', `outcomes not written to ${deps.outcomes.file}: ${(err as Error).message}`);
    }
    if (summary === null) return sendError(reply, 'bad_request', 'empty body: send a JSON object, a JSON array or NDJSON');
    return summary;
  });

  for (const url of MUTATIONS) {
    // Answered on arrival (onRequest): a PUT's body is never read.
    const notAllowed = async (_req: FastifyRequest, reply: FastifyReply) =>
      sendError(reply.header('allow', 'POST'), 'method_not_allowed', `${url} takes POST`);
    app.route({ method: [...OTHER_METHODS], url, onRequest: notAllowed, handler: notAllowed });
  }

  return app;
}

/** ccrouter's error answer on the admin listener: `code`'s status and its one body (docs/errors.md). */
function sendError(reply: FastifyReply, code: HttpErrorCode, message?: string): FastifyReply {
  return reply.code(HTTP_ERRORS[code].status).send(httpErrorBody(code, message));
}

function parseJsonBody(body: unknown): unknown {
  if (!Buffer.isBuffer(body) || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
