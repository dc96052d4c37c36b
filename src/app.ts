/**
 * buildApp(runtime): the public listener's fastify instance — never listens by itself
 * (docs/design.md#the-path-of-a-request). One catch-all route of ccrouter's own: a request on a
 * scored route of the current snapshot becomes an Exchange (routing/exchange.ts); anything else goes
 * to the champion through reply-from, so a reload changes routes and models without rebuilding the
 * app. Every answer ccrouter writes itself leaves through http/answer.ts.
 */
import type { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import replyFrom from '@fastify/reply-from';
import { trustedCas } from './upstream/tls.js';
import type { HttpErrorCode } from './errors.js';
import type { Runtime } from './runtime/runtime.js';
import { writeError } from './http/answer.js';
import { declaredOverLimit } from './routing/body.js';
import { clientErrorHandler } from './http/client-error.js';
import { ShadowSlots, type ScoredContext } from './routing/context.js';
import { Exchange } from './routing/exchange.js';
import { requestIdFor } from './routing/headers.js';
import { passThrough, passThroughFailed, validPassThroughPath } from './routing/passthrough.js';

export interface AppState {
  /** Set when shutdown began: answers carry `connection: close`. */
  draining: boolean;
  /** Requests received and not yet answered (or closed). */
  inflight: number;
}

/** The methods the catch-all route takes (others get ccrouter's 404 `not_found`). */
const METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'];

export async function buildApp(rt: Runtime): Promise<{ app: FastifyInstance; state: AppState }> {
  const cfg = rt.snapshot.config;
  const limits = cfg.limits;
  const state: AppState = { draining: false, inflight: 0 };
  const ctx: ScoredContext = { recorder: rt.recorder, shadow: new ShadowSlots(), listener: state };
  const app = Fastify({
    logger: false,
    genReqId: (req) => requestIdFor(req.headers),
    // Both here and in `http`: fastify's own default (0) would overwrite the server's.
    requestTimeout: limits.requestTimeoutMs,
    http: { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: 1000 },
    // Shutdown serves requests on kept-alive connections with `connection: close`, not 503.
    return503OnClosing: false,
    forceCloseConnections: false,
    clientErrorHandler,
    // A path fastify cannot decode (`/%zz`): ccrouter's 400, not fastify's body.
    frameworkErrors: (err, _request, reply) => own(reply, 'bad_request', `request path is not a valid URL (${err.message})`, true),
  });
  // Bodies are streamed, never parsed by fastify: to both models by the Exchange (which checks
  // limits.bodyBytes as it reads), or to the champion by reply-from. `application/json` is named
  // too because fastify caches the parser of a named type, not the catch-all's.
  const stream = (_request: FastifyRequest, payload: unknown, done: (err: null, body: unknown) => void) => done(null, payload);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', stream);
  app.addContentTypeParser('*', stream);

  const closed = () => state.inflight--;
  app.addHook('onRequest', (request, reply, done) => {
    state.inflight++;
    reply.raw.on('close', closed);
    // For the pass-through's answers and fastify's own; ccrouter's answers set their own headers.
    reply.header('x-request-id', request.id);
    if (state.draining) reply.header('connection', 'close');
    const raw = request.raw;
    if (raw.httpVersion === '1.0' && raw.headers['transfer-encoding'] !== undefined) {
      // Node serves it; HTTP/1.0 has no chunked framing, so it is a smuggling vector.
      return own(reply, 'bad_request', 'Transfer-Encoding is not allowed on HTTP/1.0', true);
    }
    done();
  });

  await app.register(replyFrom, {
    base: '',
    undici: {
      connections: 256,
      // The champion's `ca` as at start-up: this pool lives as long as the listener.
      connect: { timeout: cfg.models.champion.timeoutMs, ca: trustedCas(cfg.models.champion, 'champion') },
      headersTimeout: limits.requestTimeoutMs,
      bodyTimeout: limits.requestTimeoutMs,
    },
  });

  const handler = (request: FastifyRequest, reply: FastifyReply): void => {
    const snap = rt.snapshot;
    const raw = request.raw;
    const url = raw.url!;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const route = snap.routes.get(path)?.get(raw.method!);
    const tooLarge = declaredOverLimit(raw.headers, snap.config.limits.bodyBytes);
    if (route !== undefined && snap.config.mode !== 'bypass') {
      reply.hijack();
      return new Exchange(ctx, snap, route, request.id, raw, reply.raw).start((request.body as Readable | undefined) ?? raw, tooLarge);
    }
    if (route === undefined && !snap.config.passthrough) {
      return own(reply, 'not_found', 'no scored route matches and passthrough is off', state.draining);
    }
    if (tooLarge !== null) return own(reply, 'too_large', tooLarge, true);
    const target = snap.passThrough.prefix + path;
    if (!validPassThroughPath(target)) {
      return own(reply, 'bad_request', "request path is not a relative path inside the champion's URL", state.draining);
    }
    passThrough(reply, snap, target);
  };
  for (const url of ['/', '/*']) app.route({ method: METHODS, url, handler });
  // The catch-all takes every path: only a method it does not take gets here.
  app.setNotFoundHandler((request, reply) =>
    own(reply, 'not_found', `ccrouter does not take the method ${request.raw.method} (it takes ${METHODS.join(', ')})`, state.draining));
  // What reaches fastify's error handler is a pass-through answer that failed before its first byte
  // went out, or a fault of ccrouter's own: never fastify's body, never 500 for the champion's failure.
  app.setErrorHandler((err, _request, reply) => {
    if (passThroughFailed(reply, err)) return;
    if (reply.raw.headersSent) return void reply.raw.destroy();
    own(reply, 'internal_error', undefined, true);
  });

  return { app, state };
}

/** An answer of ccrouter's own on a request fastify hands over. */
function own(reply: FastifyReply, code: HttpErrorCode, message: string | undefined, close: boolean): void {
  reply.hijack();
  writeError(reply.raw, code, message, reply.request.id, close);
}
