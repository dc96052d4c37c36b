/**
 * A scored request (SPEC 5): assign, call both models at once, answer from the served model as soon
 * as it has answered, and write the pair record once both outcomes are known.
 *
 * One Exchange object carries a request through; model calls report back to it by callback (no
 * promise per call). Once the answer is sent it lets go of the request, the reply and (unless
 * `logging.bodies`) the body, so a slow shadow call keeps only what its record needs.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { groupOf } from '../assignment/bucket.js';
import { readUnitKey } from '../assignment/unit-key.js';
import type { Group, Role } from '../config/types.js';
import { bodyForRecord, fieldsOf } from '../records/pair.js';
import { skipped, type ModelOutcome, type PairRecord, type RequestErrorKind } from '../records/types.js';
import type { Runtime } from '../runtime/runtime.js';
import type { PreparedRoute, Snapshot } from '../runtime/snapshot.js';
import type { Call, CallResult } from '../upstream/model-client.js';
import { readBody, type BodyError, type BodyListener } from './body.js';
import { socketTimedOut } from './client-error.js';
import { answerHeaders, upstreamHeaders } from './headers.js';
import { mergePatch } from './merge-patch.js';
import { setPointer } from '../util/json-pointer.js';
import { evaluate, type Evaluated } from './outcome.js';
import { EMPTY } from '../util/chunks.js';

const CLIENT_GONE = 'client closed the connection';

/**
 * Serve `request` on `route`. Answers (or hijacks) the reply itself, possibly later: the caller must
 * not let fastify go on with the request.
 */
export function handleScored(rt: Runtime, snap: Snapshot, route: PreparedRoute, request: FastifyRequest, reply: FastifyReply): void {
  const raw = request.raw;
  const limit = snap.config.limits.bodyBytes;
  // Body: bounded, and refused before any upstream call when it is too large or not JSON as needed.
  const declared = raw.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return reject(rt, snap, route, reply, request.id, 413, 'too_large', `request body of ${declared} bytes is over limits.bodyBytes (${limit})`);
  }
  readBody((request.body as Readable | undefined) ?? raw, limit, new Exchange(rt, snap, route, request, reply));
}

class Exchange implements BodyListener {
  readonly requestId: string;
  /** Until the answer is sent (a slow shadow call then holds none of them). */
  res: ServerResponse | null;
  request: FastifyRequest | null;
  reply: FastifyReply | null;
  body: Buffer = EMPTY;
  json: unknown = undefined;
  key: string | null = null;
  bucket = 0;
  group: Group = 'champion';
  served: Role = 'champion';
  /** The model whose answer the caller got (the champion after a fallback). */
  answerRole: Role = 'champion';
  fallback = false;
  shadowSkip: string | null = null;
  /** Upstream headers for a fallback call (only kept when one may be needed). */
  headers: string[] | null = null;
  /** Each call until it settles (a settled call needs no canceling). */
  servedCall: Call | null = null;
  shadowCall: Call | null = null;
  /** The response's close listener, until the answer is sent. */
  #onClose: (() => void) | null = null;
  /** Each model's outcome once known (only the outcome: its body and headers are let go). */
  champion: ModelOutcome | null = null;
  challenger: ModelOutcome | null = null;
  /** A shadow champion's full result, kept until the challenger answered: it may stand in. */
  standIn: Evaluated | null = null;
  /** Calls started whose outcome is not known yet. */
  outstanding = 0;
  /** The answer was sent, or the client is gone. */
  answered = false;
  clientGone = false;
  sentBody: Buffer | null = null;

  constructor(readonly rt: Runtime, readonly snap: Snapshot, readonly route: PreparedRoute, request: FastifyRequest, reply: FastifyReply) {
    this.request = request;
    this.reply = reply;
    this.requestId = request.id;
    this.res = reply.raw;
  }

  onBodyError(e: BodyError): void {
    const { rt, snap, route, reply, requestId } = this;
    const limits = snap.config.limits;
    if (e.kind === 'too_large') return reject(rt, snap, route, reply!, requestId, 413, 'too_large', `request body is over limits.bodyBytes (${limits.bodyBytes})`);
    const kind = socketTimedOut(this.request!.raw.socket) ? 'client_timeout' : 'client_abort';
    reject(rt, snap, route, reply!, requestId, null, kind, kind === 'client_timeout' ? `request body not complete within limits.requestTimeoutMs (${limits.requestTimeoutMs} ms)` : e.message);
  }

  onBody(body: Buffer): void {
    const { rt, snap } = this;
    const cfg = snap.config;
    const raw = this.request!.raw;
    this.body = body;
    if (snap.needsJson || cfg.logging.bodies) {
      try {
        this.json = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
        if (this.json === undefined && snap.needsJson) throw new Error('empty body');
      } catch {
        if (snap.needsJson) {
          const why = snap.unit.kind === 'body' ? 'assignment.unit reads the body' : 'logging.fields read the body';
          return reject(rt, snap, this.route, this.reply!, this.requestId, 400, 'bad_request', `request body is not valid JSON (${why})`, body);
        }
        this.json = undefined;
      }
    }

    // Assignment (SPEC 4).
    const key = snap.unit.kind === 'none' ? null : readUnitKey(snap.unit, { headers: raw.headers, url: raw.url!, json: this.json });
    this.key = key;
    this.bucket = key === null ? rt.rng() : snap.bucketOf(key);
    const group = groupOf(this.bucket, cfg.traffic);
    const served: Role = group === 'challenger' ? 'challenger' : 'champion';
    this.group = group;
    this.served = this.answerRole = served;
    rt.counters.requests[group]++;

    const headers = upstreamHeaders(raw.rawHeaders, raw.headers, this.requestId, raw.socket.remoteAddress);
    headers.push('x-ccrouter-role', 'served');
    // A challenger-served request may fall back to the champion without a shadow champion call.
    if (served === 'challenger' && cfg.fallback === 'champion') this.headers = headers;
    rt.pendingRecords++;
    this.servedCall = this.#call(served, headers);
    if (!cfg.traffic.shadow) {
      this.shadowSkip = 'traffic.shadow is off';
    } else if (rt.shadowInflight >= cfg.traffic.shadowLimit) {
      this.shadowSkip = `traffic.shadowLimit (${cfg.traffic.shadowLimit}) shadow calls in flight`;
      rt.counters.shadowSkipped++;
      rt.metrics.shadowSkipped.inc();
    } else {
      rt.shadowInflight++;
      const shadowHeaders = headers.slice();
      shadowHeaders[shadowHeaders.length - 1] = 'shadow';
      this.shadowCall = this.#call(served === 'champion' ? 'challenger' : 'champion', shadowHeaders, true);
    }
    // The calls may have settled synchronously (a pool already closed): the answer may be out.
    if (!this.answered) this.res!.once('close', (this.#onClose = () => this.#clientClosed()));
  }

  #call(role: Role, headers: string[], shadow = false): Call {
    this.outstanding++;
    const raw = this.request!.raw;
    const method = raw.method!;
    const body = (method === 'GET' || method === 'HEAD') && this.body.length === 0 ? null : this.body;
    return this.snap.clients[role].call({ method, url: raw.url!, headers, body }, (result) => {
      if (shadow) {
        this.rt.shadowInflight--;
        this.shadowCall = null;
      } else {
        this.servedCall = null;
      }
      const e = evaluate(result, this.route.scoring[role]);
      if (e instanceof Promise) void e.then((v) => this.#evaluated(role, v));
      else this.#evaluated(role, e);
    });
  }

  #evaluated(role: Role, e: Evaluated): void {
    this[role] = e.outcome;
    this.outstanding--;
    if (!this.answered) {
      if (this.fallback) {
        if (role === 'champion') this.#answer('champion', e);
      } else if (role === this.served) {
        if (role === 'challenger' && e.outcome.error !== null && this.snap.config.fallback === 'champion') {
          this.fallback = true;
          this.answerRole = 'champion';
          this.rt.counters.fallbacks++;
          if (this.standIn !== null) this.#answer('champion', this.standIn);
          // No shadow champion call in flight (a settled one would be the stand-in): call the champion.
          else if (this.shadowCall === null) this.servedCall = this.#call('champion', this.headers!);
          // else: the shadow champion call stands in once it settles.
        } else {
          this.#answer(role, e);
        }
      } else if (role === 'champion' && this.snap.config.fallback === 'champion') {
        this.standIn = e;
      }
    }
    if (this.outstanding === 0 && this.answered) this.#finish();
  }

  /**
   * A client gone before its answer cancels both calls (SPEC 6: client_abort). Once the answer is
   * handed to the socket the request counts as answered, whatever the client does next.
   */
  #clientClosed(): void {
    this.#onClose = null;
    if (this.answered) return;
    this.answered = true;
    this.clientGone = true;
    // A reply neither sent nor hijacked would let fastify go on with the request.
    this.reply!.hijack();
    this.#release();
    this.servedCall?.cancel(CLIENT_GONE);
    this.shadowCall?.cancel(CLIENT_GONE);
  }

  #answer(role: Role, e: Evaluated): void {
    this.answered = true;
    if (this.#onClose !== null) {
      this.res!.off('close', this.#onClose);
      this.#onClose = null;
    }
    this.sentBody = send(this.reply!, this.snap, this.requestId, this.group, role, e, this.fallback);
    this.#release();
  }

  #release(): void {
    this.res = null;
    this.request = null;
    this.reply = null;
    this.headers = null;
    this.standIn = null;
    if (!this.snap.config.logging.bodies) {
      this.body = EMPTY;
      this.sentBody = null;
    }
  }

  /** The record: once both outcomes are known, off the caller's path. */
  #finish(): void {
    const { rt, snap } = this;
    const cfg = snap.config;
    const calibrated = snap.normalize !== null;
    const champion: ModelOutcome = this.champion ?? skipped(cfg.models.champion.version, this.shadowSkip!, calibrated);
    const challenger: ModelOutcome = this.challenger ?? skipped(cfg.models.challenger.version, this.shadowSkip!, calibrated);
    const record: PairRecord = {
      requestId: this.requestId,
      route: this.route.name,
      config: snap.id,
      assigned: this.key === null ? 'random' : 'key',
      bucket: this.bucket,
      group: this.group,
      served: this.answerRole,
      fallback: this.fallback,
      champion,
      challenger,
      agree: champion.decision !== null && challenger.decision !== null ? champion.decision === challenger.decision : null,
      fields: fieldsOf(this.json, snap.fields),
    };
    const unit = snap.unitFor(this.key);
    if (unit !== undefined) record.unit = unit;
    if (cfg.logging.bodies) {
      record.request = bodyForRecord(this.body, this.json, snap.redact);
      record.response = this.sentBody === null ? null : bodyForRecord(this.sentBody, undefined, snap.redact);
    }
    if (this.clientGone) record.error = { kind: 'client_abort', message: 'client closed the connection before the answer' };
    rt.pendingRecords--;
    rt.writePair(record);
  }
}

/** Send the chosen answer; returns the body sent (for `logging.bodies`). */
function send(reply: FastifyReply, snap: Snapshot, requestId: string, group: Group, role: Role, evaluated: Evaluated, fallback: boolean): Buffer {
  const cfg = snap.config;
  const result: CallResult = evaluated.result;
  const headers = ['x-request-id', requestId, 'x-ccrouter-group', group, 'x-ccrouter-model', cfg.models[role].version];
  if (fallback) headers.push('x-ccrouter-fallback', '1');

  if (group === 'control' && cfg.control.response) {
    const r = cfg.control.response;
    const out = typeof r.body === 'string' ? Buffer.from(r.body) : Buffer.from(JSON.stringify(r.body ?? null));
    headers.push('content-type', typeof r.body === 'string' ? TEXT : JSON_TYPE);
    return write(reply, r.status, headers, out);
  }
  if (!result.ok) {
    const status = result.kind === 'timeout' ? 504 : result.kind === 'canceled' ? 503 : 502;
    const error = result.kind === 'timeout' ? 'upstream_timeout' : result.kind === 'canceled' ? 'shutting_down' : 'upstream_connect';
    headers.push('content-type', JSON_TYPE);
    return write(reply, status, headers, Buffer.from(JSON.stringify({ error, model: cfg.models[role].version, requestId })));
  }
  const patch = group === 'control' ? cfg.control.patch : undefined;
  const normalized = evaluated.outcome.normalized;
  const inject = snap.inject !== null && normalized !== undefined && normalized !== null;
  if ((patch || inject) && result.status < 300 && evaluated.json !== undefined) {
    let json: unknown = evaluated.json;
    if (inject) setPointer(json, snap.inject!, normalized);
    if (patch) json = mergePatch(json, patch);
    // A rewritten body goes out uncompressed, whatever the model sent.
    answerHeaders(result.rawHeaders, true, headers);
    headers.push('content-type', JSON_TYPE);
    return write(reply, result.status, headers, Buffer.from(JSON.stringify(json)));
  }
  if (!answerHeaders(result.rawHeaders, false, headers)) headers.push('content-type', 'application/octet-stream');
  return write(reply, result.status, headers, result.body);
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT = 'text/plain; charset=utf-8';

/**
 * Write an answer on the raw response, past fastify's reply (hijacked): the headers are already a
 * flat list, and writeHead takes it as is. Only `connection`, set by the onRequest hook while
 * draining, is carried over from the reply.
 */
function write(reply: FastifyReply, status: number, headers: string[], body: Buffer): Buffer {
  const connection = reply.getHeader('connection');
  if (connection !== undefined) headers.push('connection', String(connection));
  headers.push('content-length', String(body.length));
  reply.hijack();
  reply.raw.writeHead(status, headers).end(body);
  return body;
}

/** Answer a request refused before any upstream call, and write its record (SPEC 5, 6). */
function reject(
  rt: Runtime,
  snap: Snapshot,
  route: PreparedRoute,
  reply: FastifyReply,
  requestId: string,
  status: 400 | 413 | null,
  kind: RequestErrorKind,
  message: string,
  body?: Buffer,
): void {
  const cfg = snap.config;
  const record: PairRecord = {
    requestId,
    route: route.name,
    config: snap.id,
    assigned: null,
    bucket: null,
    group: null,
    served: null,
    fallback: false,
    champion: skipped(cfg.models.champion.version, `request rejected: ${kind}`, snap.normalize !== null),
    challenger: skipped(cfg.models.challenger.version, `request rejected: ${kind}`, snap.normalize !== null),
    agree: null,
    fields: fieldsOf(undefined, snap.fields),
    error: { kind, message },
  };
  const unit = snap.unitFor(null);
  if (unit !== undefined) record.unit = unit;
  if (cfg.logging.bodies) {
    record.request = body ? bodyForRecord(body, undefined, snap.redact) : null;
    record.response = null;
  }
  rt.writePair(record);
  if (status === null) {
    // The client is gone: nothing to answer, and nothing more for fastify to do.
    reply.hijack();
    return;
  }
  const out = JSON.stringify({ error: kind, message, requestId });
  if (status === 413) reply.header('connection', 'close');
  reply.code(status).header('content-type', JSON_TYPE).send(out);
}
