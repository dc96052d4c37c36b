/**
 * The answer a scored request gets (docs/design.md#the-hot-path): the model's answer with
 * ccrouter's headers, the control group's patch or fixed response, or ccrouter's own 502/503/504
 * when the model could not answer.
 */
import type { ServerResponse } from 'node:http';
import type { Config, Group, Role } from '../config/types.js';
import type { Snapshot } from '../runtime/snapshot.js';
import type { Evaluated } from '../scoring/outcome.js';
import { setPointer } from '../util/json-pointer.js';
import { HTTP_ERRORS, type HttpErrorCode } from '../errors.js';
import type { TransportErrorKind } from '../upstream/classify.js';
import { errorBytes, JSON_TYPE, writeAnswer } from '../http/answer.js';
import { answerHeaders } from './headers.js';
import { mergePatch } from './merge-patch.js';

/**
 * Write the answer on `res` from `role`'s call (the champion after a fallback); returns the body sent
 * (for `logging.bodies`). `close`: the connection closes after it.
 */
export function sendServed(res: ServerResponse, close: boolean, snap: Snapshot, requestId: string, group: Group, role: Role, evaluated: Evaluated, fallback: boolean): Buffer {
  const cfg = snap.config;
  const result = evaluated.result;
  const headers = ['x-request-id', requestId, 'x-ccrouter-group', group, 'x-ccrouter-model', cfg.models[role].version];
  if (fallback) headers.push('x-ccrouter-fallback', '1');
  let status: number;
  let body: Buffer;

  if (group === 'control' && snap.controlResponse !== null) {
    const r = snap.controlResponse;
    status = r.status;
    body = r.body;
    headers.push('content-type', r.contentType);
  } else if (!result.ok) {
    const [code, message] = failure(cfg, role, result.kind);
    status = HTTP_ERRORS[code].status;
    body = errorBytes(code, message, requestId, cfg.models[role].version);
    headers.push('content-type', JSON_TYPE);
  } else {
    status = result.status;
    const rewritten = rewrite(snap, group, evaluated);
    if (rewritten !== null) {
      // A rewritten body goes out uncompressed, whatever the model sent.
      body = rewritten;
      answerHeaders(result.headers, true, headers);
      headers.push('content-type', JSON_TYPE);
    } else {
      body = result.body;
      if (!answerHeaders(result.headers, false, headers)) headers.push('content-type', 'application/octet-stream');
    }
  }
  writeAnswer(res, status, headers, body, close);
  return body;
}

/** ccrouter's answer when `role`'s call failed, its message naming the setting that bounded it. */
export function failure(cfg: Config, role: Role, kind: TransportErrorKind): [HttpErrorCode, string] {
  const model = `the ${role} (${cfg.models[role].version})`;
  if (kind === 'timeout') return ['upstream_timeout', `${model} did not answer within models.${role}.timeoutMs (${cfg.models[role].timeoutMs} ms)`];
  if (kind === 'too_large') return ['upstream_too_large', `${model} answered more than limits.responseBytes (${cfg.limits.responseBytes} bytes)`];
  if (kind === 'canceled') return ['shutting_down', `the call to ${model} was still running when shutdownGraceMs (${cfg.shutdownGraceMs} ms) ran out`];
  return ['upstream_connect', `${model} could not be reached or its answer was broken`];
}

/** The model's JSON with the normalized score injected and the control patch merged; null: sent as is. */
function rewrite(snap: Snapshot, group: Group, evaluated: Evaluated): Buffer | null {
  const result = evaluated.result;
  if (!result.ok || result.status >= 300 || evaluated.json === undefined) return null;
  const patch = group === 'control' ? snap.config.control.patch : undefined;
  const normalized = evaluated.outcome.normalized;
  const inject = snap.inject !== null && normalized !== undefined && normalized !== null;
  if (!patch && !inject) return null;
  let json: unknown = evaluated.json;
  if (inject) setPointer(json, snap.inject!, normalized);
  if (patch) json = mergePatch(json, patch);
  return Buffer.from(JSON.stringify(json));
}
