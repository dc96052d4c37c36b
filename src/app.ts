/**
 * buildApp(runtime): the public listener's fastify instance — never listens by itself.
 * Every request goes through one @fastify/http-proxy route; its preHandler serves the scored
 * routes of the current snapshot and lets everything else pass through to the champion, so a
 * reload can change routes and models without rebuilding the app.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import httpProxy from '@fastify/http-proxy';
import type { Runtime } from './runtime/runtime.js';
import { handleScored } from './routing/scored.js';
import { clientErrorHandler } from './routing/client-error.js';
import { passThroughHeaders, requestIdFor } from './routing/headers.js';

export interface AppState {
  /** Set when shutdown began: answers carry `connection: close`. */
  draining: boolean;
  /** Requests received and not yet answered (or closed). */
  inflight: number;
}

export async function buildApp(rt: Runtime): Promise<{ app: FastifyInstance; state: AppState }> {
  const cfg = rt.snapshot.config;
  const limits = cfg.limits;
  const state: AppState = { draining: false, inflight: 0 };
  const app = Fastify({
    logger: false,
    genReqId: (req) => requestIdFor(req.headers),
    // Both here and in `http`: fastify's own default (0) would overwrite the server's (PITFALLS).
    requestTimeout: limits.requestTimeoutMs,
    http: { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: 1000 },
    // Shutdown serves requests on kept-alive connections with `connection: close` (SPEC 5), not 503.
    return503OnClosing: false,
    forceCloseConnections: false,
    bodyLimit: limits.bodyBytes,
    clientErrorHandler,
  });

  const closed = () => state.inflight--;
  app.addHook('onRequest', (request, reply, done) => {
    state.inflight++;
    reply.raw.on('close', closed);
    // For fastify's answers (pass-through, 404, 413, errors); a scored answer writes its own headers
    // and carries `connection` over (routing/scored.ts).
    reply.header('x-request-id', request.id);
    if (state.draining) reply.header('connection', 'close');
    const raw = request.raw;
    if (raw.httpVersion === '1.0' && raw.headers['transfer-encoding'] !== undefined) {
      // Node serves it; HTTP/1.0 has no chunked framing, so it is a smuggling vector (SPEC 5).
      reply.header('connection', 'close');
      return void reply.code(400).send({ error: 'bad_request', message: 'Transfer-Encoding is not allowed on HTTP/1.0', requestId: request.id });
    }
    done();
  });

  let championUrl = '';
  let championOrigin = '';
  let championPrefix = '';
  const refreshChampion = () => {
    championUrl = rt.snapshot.config.models.champion.url;
    const url = new URL(championUrl);
    championOrigin = url.origin;
    championPrefix = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  };
  refreshChampion();

  // Callback style: a request answered here (scored, 404, 413) never calls done(), so fastify does
  // not go on to the pass-through handler; the scored answer may come much later.
  const preHandler = (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const snap = rt.snapshot;
    const url = request.raw.url!;
    const q = url.indexOf('?');
    const route = snap.routes.get(q < 0 ? url : url.slice(0, q))?.get(request.raw.method!);
    if (route !== undefined && !rt.bypass) return handleScored(rt, snap, route, request, reply);
    if (route === undefined && !snap.config.passthrough) {
      return void reply.code(404).send({ error: 'not_found', message: 'no scored route matches and passthrough is off', requestId: request.id });
    }
    const declared = Number(request.raw.headers['content-length']);
    if (declared > snap.config.limits.bodyBytes) {
      reply.header('connection', 'close');
      return void reply.code(413).send({ error: 'too_large', message: `request body of ${declared} bytes is over limits.bodyBytes`, requestId: request.id });
    }
    if (championUrl !== snap.config.models.champion.url) refreshChampion();
    done();
  };

  await app.register(httpProxy, {
    upstream: '',
    prefix: '/',
    preHandler,
    preRewrite: (url: string) => championPrefix + url,
    undici: {
      connections: 256,
      connect: { timeout: cfg.models.champion.timeoutMs },
      headersTimeout: limits.requestTimeoutMs,
      bodyTimeout: limits.requestTimeoutMs,
    },
    replyOptions: {
      getUpstream: () => championOrigin,
      rewriteRequestHeaders: (request, headers) => passThroughHeaders(headers, request.id, request.raw.socket.remoteAddress),
    },
  });

  return { app, state };
}
