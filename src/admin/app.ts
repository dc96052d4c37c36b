/**
 * The admin listener (SPEC 7), on its own host/port: status and metrics for anyone who can reach
 * it, levers and outcomes behind a bearer token. Nothing here is reachable from the public port.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Runtime } from '../runtime/runtime.js';
import type { RecordSink } from '../records/sink.js';
import { hashUnit } from '../records/pair.js';
import { checkBearer } from './auth.js';
import { parseOutcomes } from './outcomes.js';

export const OUTCOMES_BODY_LIMIT = 16 * 1024 * 1024;

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
  const app = Fastify({ logger: false, bodyLimit: OUTCOMES_BODY_LIMIT });
  // Mutations take any body as bytes; each route parses its own.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

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

  app.post('/bypass', { onRequest: auth }, async (request, reply) => {
    const body = parseJsonBody(request.body);
    if (body === undefined || typeof (body as { on?: unknown }).on !== 'boolean') {
      return reply.code(400).send({ error: 'bad_request', message: 'body must be {"on": true|false}' });
    }
    rt.setBypass((body as { on: boolean }).on, 'admin');
    return rt.status();
  });

  app.post('/rollback', { onRequest: auth }, async () => {
    rt.rollback('admin');
    return rt.status();
  });

  app.post('/outcomes', { onRequest: auth }, async (request, reply) => {
    const buf = request.body as Buffer | undefined;
    const text = buf ? buf.toString('utf8') : '';
    if (text.trim() === '') return reply.code(400).send({ error: 'bad_request', message: 'empty body: send a JSON object, a JSON array or NDJSON' });
    const { accepted, rejected } = parseOutcomes(text);
    const unit = rt.fileConfig.config.logging.unit;
    const salt = rt.fileConfig.config.assignment.salt;
    for (const o of accepted) {
      if (o.unit !== undefined && unit === 'hash') o.unit = hashUnit(o.unit, salt);
      deps.outcomes.write(o, 'outcome');
    }
    return { accepted: accepted.length, rejected };
  });

  for (const url of MUTATIONS) {
    app.route({
      method: [...OTHER_METHODS],
      url,
      handler: async (_req, reply) => reply.code(405).header('allow', 'POST').send({ error: 'method_not_allowed', message: `${url} takes POST` }),
    });
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
