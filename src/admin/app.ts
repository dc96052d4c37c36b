/**
 * The admin listener (docs/operations.md#the-admin-listener), on its own host/port: status and
 * metrics for anyone who can reach it, levers and outcomes behind a bearer token. Nothing here is
 * reachable from the public port. It shares the process, so it gets the public listener's timeouts
 * and a connection cap: a caller of this port must not be able to slow or starve the other.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Runtime } from '../runtime/runtime.js';
import type { RecordSink } from '../records/sink.js';
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
  });
  app.server.maxConnections = ADMIN_MAX_CONNECTIONS;
  // Unknown paths are answered on arrival, as 401, 403 and 405 are: their bodies are never read.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.is404) return void reply.code(404).send({ error: 'not_found', message: 'no such admin route' });
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
    if (result === 'forbidden') return reply.code(403).send({ error: 'forbidden', message: 'no admin token is configured (admin.tokenEnv)' });
    if (result === 'unauthorized') return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'missing or wrong bearer token' });
  };

  app.get('/status', async () => rt.status());
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', rt.metrics.registry.contentType);
    return deps.metrics ? deps.metrics() : rt.metrics.registry.metrics();
  });

  app.post('/bypass', { onRequest: auth, bodyLimit: LEVER_BODY_LIMIT }, async (request, reply) => {
    const body = parseJsonBody(request.body);
    if (body === undefined || typeof (body as { on?: unknown }).on !== 'boolean') {
      return reply.code(400).send({ error: 'bad_request', message: 'body must be {"on": true|false}' });
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
      return reply.code(503).send({ error: 'write_failed', message: `outcomes not written to ${deps.outcomes.file}: ${(err as Error).message}` });
    }
    if (summary === null) return reply.code(400).send({ error: 'bad_request', message: 'empty body: send a JSON object, a JSON array or NDJSON' });
    return summary;
  });

  for (const url of MUTATIONS) {
    // Answered on arrival (onRequest): a PUT's body is never read.
    const notAllowed = async (_req: FastifyRequest, reply: FastifyReply) =>
      reply.code(405).header('allow', 'POST').send({ error: 'method_not_allowed', message: `${url} takes POST` });
    app.route({ method: [...OTHER_METHODS], url, onRequest: notAllowed, handler: notAllowed });
  }

  return app;
}

function parseJsonBody(body: unknown): unknown {
  if (!Buffer.isBuffer(body) || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
