/**
 * A scored request (SPEC 5): assign, call both models at once, answer from the served model as soon
 * as it has answered, and write the pair record once both outcomes are known.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { bucketOf, groupOf } from '../assignment/bucket.js';
import { readUnitKey } from '../assignment/unit-key.js';
import type { Group, Role } from '../config/types.js';
import { bodyForRecord, fieldsOf, unitForRecord } from '../records/pair.js';
import { skipped, type ModelOutcome, type PairRecord, type RequestErrorKind } from '../records/types.js';
import type { Runtime } from '../runtime/runtime.js';
import type { PreparedRoute, Snapshot } from '../runtime/snapshot.js';
import type { Call, CallRequest, CallResult } from '../upstream/model-client.js';
import { BodyError, readBody } from './body.js';
import { socketTimedOut } from './client-error.js';
import { upstreamHeaders, responseHeaders } from './headers.js';
import { mergePatch } from './merge-patch.js';
import { setPointer } from '../util/json-pointer.js';
import { evaluate, type Evaluated } from './outcome.js';

const OTHER: Record<Role, Role> = { champion: 'challenger', challenger: 'champion' };
const METHODS_WITHOUT_BODY = new Set(['GET', 'HEAD']);

interface Started {
  call: Call;
  evaluated: Promise<Evaluated>;
}

export async function handleScored(
  rt: Runtime,
  snap: Snapshot,
  route: PreparedRoute,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | void> {
  const raw = request.raw;
  const requestId = request.id;
  const cfg = snap.config;

  // Body: bounded, and refused before any upstream call when it is too large or not JSON as needed.
  const declared = Number(raw.headers['content-length']);
  if (declared > cfg.limits.bodyBytes) {
    return reject(rt, snap, route, reply, requestId, 413, 'too_large', `request body of ${declared} bytes is over limits.bodyBytes (${cfg.limits.bodyBytes})`);
  }
  let body: Buffer;
  try {
    body = await readBody((request.body as Readable | undefined) ?? raw, cfg.limits.bodyBytes);
  } catch (err) {
    const e = err as BodyError;
    if (e.kind === 'too_large') return reject(rt, snap, route, reply, requestId, 413, 'too_large', `request body is over limits.bodyBytes (${cfg.limits.bodyBytes})`);
    const kind = socketTimedOut(raw.socket) ? 'client_timeout' : 'client_abort';
    return reject(rt, snap, route, reply, requestId, null, kind, kind === 'client_timeout' ? `request body not complete within limits.requestTimeoutMs (${cfg.limits.requestTimeoutMs} ms)` : e.message);
  }
  let json: unknown;
  if (snap.needsJson || cfg.logging.bodies) {
    try {
      json = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
      if (json === undefined && snap.needsJson) throw new Error('empty body');
    } catch {
      if (snap.needsJson) {
        const why = snap.unit.kind === 'body' ? 'assignment.unit reads the body' : 'logging.fields read the body';
        return reject(rt, snap, route, reply, requestId, 400, 'bad_request', `request body is not valid JSON (${why})`, body);
      }
      json = undefined;
    }
  }

  // Assignment (SPEC 4).
  const key = readUnitKey(snap.unit, { headers: raw.headers, url: raw.url!, json });
  const bucket = key === null ? rt.rng() : bucketOf(cfg.assignment.salt, key);
  const group: Group = groupOf(bucket, cfg.traffic);
  const served: Role = group === 'challenger' ? 'challenger' : 'champion';
  const shadowRole = OTHER[served];
  rt.counters.requests[group]++;

  const base = upstreamHeaders(raw.rawHeaders, raw.headers, requestId, raw.socket.remoteAddress);
  const callFor = (role: Role, asRole: 'served' | 'shadow'): Started => {
    const req: CallRequest = {
      method: raw.method!,
      url: raw.url!,
      headers: base.concat('x-ccrouter-role', asRole),
      body: METHODS_WITHOUT_BODY.has(raw.method!) && body.length === 0 ? null : body,
    };
    const call = snap.clients[role].call(req);
    return { call, evaluated: call.result.then((r) => evaluate(r, cfg.models[role].version, route.score, snap.thresholds[role], snap.normalize)) };
  };

  const servedCall = callFor(served, 'served');
  let shadowCall: Started | null = null;
  let shadowSkip: string | null = null;
  if (!cfg.traffic.shadow) {
    shadowSkip = 'traffic.shadow is off';
  } else if (rt.shadowInflight >= cfg.traffic.shadowLimit) {
    shadowSkip = `traffic.shadowLimit (${cfg.traffic.shadowLimit}) shadow calls in flight`;
    rt.counters.shadowSkipped++;
    rt.metrics.shadowSkipped.inc();
  } else {
    rt.shadowInflight++;
    shadowCall = callFor(shadowRole, 'shadow');
    shadowCall.call.result.finally(() => rt.shadowInflight--);
  }

  // A client gone before its answer cancels both calls (SPEC 6: client_abort).
  let clientGone = false;
  const res = reply.raw;
  const onClose = () => {
    if (res.writableFinished) return;
    clientGone = true;
    servedCall.call.cancel('client closed the connection');
    shadowCall?.call.cancel('client closed the connection');
  };
  res.once('close', onClose);
  rt.pendingRecords++;

  const servedEval = await servedCall.evaluated;
  let fallback = false;
  let answer: { role: Role; result: CallResult; evaluated: Evaluated } = { role: served, result: await servedCall.call.result, evaluated: servedEval };
  // The champion's call when the challenger failed and the champion stands in for it.
  let fallbackCall: Started | null = null;
  if (served === 'challenger' && servedEval.outcome.error !== null && cfg.fallback === 'champion' && !clientGone) {
    fallback = true;
    rt.counters.fallbacks++;
    fallbackCall = shadowCall ?? callFor('champion', 'served');
    answer = { role: 'champion', result: await fallbackCall.call.result, evaluated: await fallbackCall.evaluated };
  }

  // A reply neither sent nor hijacked would let fastify run the pass-through handler next.
  const sentBody = clientGone ? (reply.hijack(), null) : send(reply, snap, requestId, group, answer, fallback);

  // The record: once both outcomes are known, off the caller's path.
  const championEval: Promise<Evaluated> | null =
    served === 'champion' ? servedCall.evaluated : fallbackCall?.evaluated ?? shadowCall?.evaluated ?? null;
  const challengerEval: Promise<Evaluated> | null = served === 'challenger' ? servedCall.evaluated : shadowCall?.evaluated ?? null;
  void Promise.all([championEval, challengerEval]).then(([ch, cl]) => {
    res.off('close', onClose);
    const champion: ModelOutcome = ch?.outcome ?? skipped(cfg.models.champion.version, shadowSkip!, snap.normalize !== null);
    const challenger: ModelOutcome = cl?.outcome ?? skipped(cfg.models.challenger.version, shadowSkip!, snap.normalize !== null);
    const record: PairRecord = {
      requestId,
      route: route.name,
      config: snap.id,
      assigned: key === null ? 'random' : 'key',
      bucket,
      group,
      served: answer.role,
      fallback,
      champion,
      challenger,
      agree: champion.decision !== null && challenger.decision !== null ? champion.decision === challenger.decision : null,
      fields: fieldsOf(json, snap.fields),
    };
    const unit = unitForRecord(key, cfg.logging.unit, cfg.assignment.salt);
    if (unit !== undefined) record.unit = unit;
    if (cfg.logging.bodies) {
      record.request = bodyForRecord(body, json, snap.redact);
      record.response = sentBody === null ? null : bodyForRecord(sentBody, undefined, snap.redact);
    }
    if (clientGone) record.error = { kind: 'client_abort', message: 'client closed the connection before the answer' };
    rt.pendingRecords--;
    rt.writePair(record);
  });
  return reply;
}

/** Send the chosen answer; returns the body sent (for `logging.bodies`). */
function send(
  reply: FastifyReply,
  snap: Snapshot,
  requestId: string,
  group: Group,
  answer: { role: Role; result: CallResult; evaluated: Evaluated },
  fallback: boolean,
): Buffer {
  const cfg = snap.config;
  const { role, result, evaluated } = answer;
  reply.header('x-request-id', requestId);
  reply.header('x-ccrouter-group', group);
  reply.header('x-ccrouter-model', cfg.models[role].version);
  if (fallback) reply.header('x-ccrouter-fallback', '1');

  if (group === 'control' && cfg.control.response) {
    const r = cfg.control.response;
    const out = typeof r.body === 'string' ? Buffer.from(r.body) : Buffer.from(JSON.stringify(r.body ?? null));
    reply.code(r.status).header('content-type', typeof r.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8').send(out);
    return out;
  }
  if (!result.ok) {
    const status = result.kind === 'timeout' ? 504 : result.kind === 'canceled' ? 503 : 502;
    const error = result.kind === 'timeout' ? 'upstream_timeout' : result.kind === 'canceled' ? 'shutting_down' : 'upstream_connect';
    const out = Buffer.from(JSON.stringify({ error, model: cfg.models[role].version, requestId }));
    reply.code(status).header('content-type', 'application/json; charset=utf-8').send(out);
    return out;
  }
  const headers = responseHeaders(result.headers);
  const patch = group === 'control' ? cfg.control.patch : undefined;
  const normalized = evaluated.outcome.normalized;
  const inject = snap.inject !== null && normalized !== undefined && normalized !== null;
  if ((patch || inject) && result.status < 300 && evaluated.json !== undefined) {
    let json: unknown = evaluated.json;
    if (inject) setPointer(json, snap.inject!, normalized);
    if (patch) json = mergePatch(json, patch);
    // A rewritten body goes out uncompressed, whatever the model sent.
    delete headers['content-encoding'];
    const out = Buffer.from(JSON.stringify(json));
    reply.code(result.status).headers(headers).header('content-type', 'application/json; charset=utf-8').send(out);
    return out;
  }
  reply.code(result.status).headers(headers).send(result.body);
  return result.body;
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
): FastifyReply | void {
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
  if (cfg.logging.unit !== 'omit') record.unit = null;
  if (cfg.logging.bodies) {
    record.request = body ? bodyForRecord(body, undefined, snap.redact) : null;
    record.response = null;
  }
  rt.writePair(record);
  if (status === null) {
    // The client is gone: nothing to answer, and nothing more for fastify to do.
    reply.hijack();
    return reply;
  }
  const out = JSON.stringify({ error: kind, message, requestId });
  if (status === 413) reply.header('connection', 'close');
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(out);
}
