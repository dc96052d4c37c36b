/**
 * One scored request, from its body to its pair record (docs/design.md#the-hot-path), as a state
 * machine with one state field:
 *
 *   reading ──body──▶ calling ──answer sent, or client gone──▶ answered ──last outcome──▶ finished
 *      └──── refused (400, 413, client gone while reading) ─────▶ answered ───────────────▶ finished
 *
 * Every way in from outside — the body's events, each model call's result, the response's close — is
 * guarded: a throw is a fault of ccrouter's own, counted and told by the recorder, and the request
 * still ends in an answer (500 `internal_error` when none was sent) and exactly one pair record.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Group, Role } from '../config/types.js';
import { readUnitKey } from '../assignment/unit-key.js';
import { groupOf } from '../assignment/bucket.js';
import { bodyForRecord, fieldsOf } from '../records/pair.js';
import { skipped, type ModelOutcome, type PairRecord, type RequestErrorKind } from '../records/types.js';
import type { PreparedRoute, Snapshot } from '../runtime/snapshot.js';
import { evaluate, notEvaluated, type Evaluated } from '../scoring/outcome.js';
import type { Call, CallResult } from '../upstream/model-client.js';
import { EMPTY } from '../util/chunks.js';
import { writeError } from './answer.js';
import { readBody, type BodyError, type BodyListener } from './body.js';
import { socketTimedOut } from './client-error.js';
import type { ScoredContext } from './context.js';
import { upstreamHeaders } from './headers.js';
import { sendServed } from './served-answer.js';

type State = 'reading' | 'calling' | 'answered' | 'finished';

const CLIENT_GONE = 'client closed the connection';
const FAULT_ANSWER = 'ccrouter failed on this request';

/** Serve a scored request whose reply fastify has handed over (hijacked). */
export function serveScored(ctx: ScoredContext, snap: Snapshot, route: PreparedRoute, requestId: string, req: IncomingMessage, res: ServerResponse, body: Readable, tooLarge: string | null): void {
  new Exchange(ctx, snap, route, requestId, req, res).start(body, tooLarge);
}

export class Exchange implements BodyListener {
  #state: State = 'reading';
  readonly #ctx: ScoredContext;
  readonly #snap: Snapshot;
  readonly #route: PreparedRoute;
  readonly #id: string;
  /** Until the answer is out (a slow shadow call then holds neither). */
  #req: IncomingMessage | null;
  #res: ServerResponse | null;
  #onClose: (() => void) | null = null;
  #body: Buffer = EMPTY;
  #json: unknown = undefined;
  #key: string | null = null;
  #bucket = 0;
  /** Null until assigned (a refused request never is). */
  #group: Group | null = null;
  /** The role the group serves, and the one whose answer the caller got (the champion after a fallback). */
  #served: Role = 'champion';
  #answerRole: Role = 'champion';
  #fallback = false;
  /** Upstream headers for a fallback call (kept only when one may be needed). */
  #fallbackHeaders: string[] | null = null;
  /** Each call until it settles (a settled call needs no canceling). */
  #servedCall: Call | null = null;
  #shadowCall: Call | null = null;
  /** Calls started whose outcome is not known yet. */
  #outstanding = 0;
  /** Each model's outcome once known (only the outcome: its body and headers are let go). */
  #champion: ModelOutcome | null = null;
  #challenger: ModelOutcome | null = null;
  /** A shadow champion's full result, kept until the challenger answered: it may stand in. */
  #standIn: Evaluated | null = null;
  /** Why a model has no outcome (shadow skipped, request refused). */
  #skip: string | null = null;
  #error: { kind: RequestErrorKind; message: string } | null = null;
  #sent: Buffer | null = null;

  constructor(ctx: ScoredContext, snap: Snapshot, route: PreparedRoute, requestId: string, req: IncomingMessage, res: ServerResponse) {
    this.#ctx = ctx;
    this.#snap = snap;
    this.#route = route;
    this.#id = requestId;
    this.#req = req;
    this.#res = res;
    ctx.recorder.begin();
  }

  /** Read the body, unless its declared length is already over the limit (`tooLarge`: the message). */
  start(body: Readable, tooLarge: string | null): void {
    try {
      if (tooLarge !== null) this.#refuse(413, 'too_large', tooLarge);
      else readBody(body, this.#snap.config.limits.bodyBytes, this);
    } catch (err) {
      this.#fault(err);
    }
  }

  onBody(body: Buffer): void {
    try {
      if (this.#state === 'reading') this.#assign(body);
    } catch (err) {
      this.#fault(err);
    }
  }

  onBodyError(e: BodyError): void {
    try {
      if (this.#state !== 'reading') return;
      const limits = this.#snap.config.limits;
      if (e.kind === 'too_large') return this.#refuse(413, 'too_large', e.message);
      if (!socketTimedOut(this.#req!.socket)) return this.#refuse(null, 'client_abort', e.message);
      this.#refuse(null, 'client_timeout', `request body not complete within limits.requestTimeoutMs (${limits.requestTimeoutMs} ms)`);
    } catch (err) {
      this.#fault(err);
    }
  }

  /** Body in hand: parse what needs parsing, assign the group, start both calls. */
  #assign(body: Buffer): void {
    const snap = this.#snap;
    const cfg = snap.config;
    const req = this.#req!;
    this.#body = body;
    if (snap.needsJson || cfg.logging.bodies) {
      try {
        this.#json = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
        if (this.#json === undefined && snap.needsJson) throw new Error('empty body');
      } catch {
        this.#json = undefined;
        if (snap.needsJson) {
          const why = snap.unit.kind === 'body' ? 'assignment.unit reads the body' : 'logging.fields read the body';
          return this.#refuse(400, 'bad_request', `request body is not valid JSON (${why})`);
        }
      }
    }

    // Assignment: docs/config.md#assignment-who-lands-in-which-group.
    const key = snap.unit.kind === 'none' ? null : readUnitKey(snap.unit, { headers: req.headers, url: req.url!, json: this.#json });
    this.#key = key;
    this.#bucket = key === null ? snap.random() : snap.bucketOf(key);
    const group = groupOf(this.#bucket, cfg.traffic);
    const served: Role = group === 'challenger' ? 'challenger' : 'champion';
    this.#group = group;
    this.#served = this.#answerRole = served;
    this.#ctx.recorder.assigned(group);

    const headers = upstreamHeaders(req.rawHeaders, req.headers, this.#id, req.socket.remoteAddress);
    headers.push('x-ccrouter-role', 'served');
    // A challenger-served request may fall back to the champion without a shadow champion call.
    if (served === 'challenger' && cfg.fallback === 'champion') this.#fallbackHeaders = headers;
    this.#state = 'calling';
    this.#servedCall = this.#call(served, headers, false);
    if (!cfg.traffic.shadow) {
      this.#skip = 'traffic.shadow is off';
    } else if (!this.#ctx.shadow.take(cfg.traffic.shadowLimit)) {
      this.#skip = `traffic.shadowLimit (${cfg.traffic.shadowLimit}) shadow calls in flight`;
      this.#ctx.recorder.shadowSkipped();
    } else {
      const shadowHeaders = headers.slice();
      shadowHeaders[shadowHeaders.length - 1] = 'shadow';
      this.#shadowCall = this.#call(served === 'champion' ? 'challenger' : 'champion', shadowHeaders, true);
    }
    // A call's result never comes before call() returned: the answer cannot be out yet.
    this.#onClose = () => {
      try {
        this.#clientClosed();
      } catch (err) {
        this.#fault(err);
      }
    };
    this.#res!.once('close', this.#onClose);
  }

  #call(role: Role, headers: string[], shadow: boolean): Call {
    this.#outstanding++;
    const req = this.#req!;
    const method = req.method!;
    const body = (method === 'GET' || method === 'HEAD') && this.#body.length === 0 ? null : this.#body;
    return this.#snap.clients[role].call({ method, url: req.url!, headers, body }, (result) => this.#settled(role, shadow, result));
  }

  /** A call's result: bookkeeping first (nothing there can throw), then its evaluation. */
  #settled(role: Role, shadow: boolean, result: CallResult): void {
    if (shadow) {
      this.#ctx.shadow.release();
      this.#shadowCall = null;
    } else {
      this.#servedCall = null;
    }
    const scoring = this.#route.scoring[role];
    let e: Evaluated | Promise<Evaluated>;
    try {
      e = evaluate(result, scoring);
    } catch (err) {
      this.#ctx.recorder.fault(err);
      e = notEvaluated(result, scoring, err);
    }
    if (e instanceof Promise) {
      e.then(
        (v) => this.#evaluated(role, v),
        (err: unknown) => {
          this.#ctx.recorder.fault(err);
          this.#evaluated(role, notEvaluated(result, scoring, err));
        },
      );
    } else {
      this.#evaluated(role, e);
    }
  }

  #evaluated(role: Role, e: Evaluated): void {
    if (role === 'champion') this.#champion = e.outcome;
    else this.#challenger = e.outcome;
    this.#outstanding--;
    try {
      if (this.#state === 'calling') this.#decide(role, e);
    } catch (err) {
      return this.#fault(err);
    }
    if (this.#state === 'answered' && this.#outstanding === 0) this.#finish();
  }

  /** Answer, fall back, or keep a stand-in (docs/config.md#fallback-and-mode). */
  #decide(role: Role, e: Evaluated): void {
    if (this.#fallback) {
      if (role === 'champion') this.#answer('champion', e);
    } else if (role === this.#served) {
      if (role === 'challenger' && e.outcome.error !== null && this.#snap.config.fallback === 'champion') {
        this.#fallback = true;
        this.#answerRole = 'champion';
        this.#ctx.recorder.fellBack();
        if (this.#standIn !== null) this.#answer('champion', this.#standIn);
        // No shadow champion call in flight (a settled one would be the stand-in): call the champion.
        else if (this.#shadowCall === null) this.#servedCall = this.#call('champion', this.#fallbackHeaders!, false);
        // else: the shadow champion call stands in once it settles.
      } else {
        this.#answer(role, e);
      }
    } else if (role === 'champion' && this.#snap.config.fallback === 'champion') {
      this.#standIn = e;
    }
  }

  #answer(role: Role, e: Evaluated): void {
    this.#sent = sendServed(this.#res!, this.#ctx.listener.draining, this.#snap, this.#id, this.#group!, role, e, this.#fallback);
    this.#state = 'answered';
    this.#release();
  }

  /**
   * A client gone before its answer cancels both calls (recorded as client_abort). Once the answer is
   * handed to the socket the request counts as answered, whatever the client does next.
   */
  #clientClosed(): void {
    this.#onClose = null;
    if (this.#state !== 'calling') return;
    this.#error = { kind: 'client_abort', message: 'client closed the connection before the answer' };
    this.#state = 'answered';
    this.#release();
    this.#servedCall?.cancel(CLIENT_GONE);
    this.#shadowCall?.cancel(CLIENT_GONE);
  }

  /** A request refused before any call: its answer (none when the client is gone) and its record. */
  #refuse(status: 400 | 413 | null, kind: RequestErrorKind, message: string): void {
    this.#error = { kind, message };
    this.#skip = `request rejected: ${kind}`;
    this.#state = 'answered';
    const res = this.#res!;
    this.#release();
    if (status !== null) writeError(res, status, kind, message, this.#id, status === 413 || this.#ctx.listener.draining);
    this.#finish();
  }

  /** A throw on this request's path: counted, answered 500 if nothing was sent, recorded all the same. */
  #fault(err: unknown): void {
    this.#ctx.recorder.fault(err);
    if (this.#state === 'reading' || this.#state === 'calling') {
      this.#error = { kind: 'internal_error', message: `${FAULT_ANSWER}: ${err instanceof Error ? err.message : String(err)}` };
      this.#skip ??= 'not called: internal error';
      this.#state = 'answered';
      const res = this.#res;
      this.#release();
      try {
        if (res !== null && !res.headersSent) writeError(res, 500, 'internal_error', FAULT_ANSWER, this.#id, true);
        else res?.destroy();
      } catch {
        res?.destroy();
      }
    }
    if (this.#state === 'answered' && this.#outstanding === 0) this.#finish();
  }

  /** Let go of the request, the response and (without logging.bodies) the bodies. */
  #release(): void {
    if (this.#onClose !== null) {
      this.#res?.off('close', this.#onClose);
      this.#onClose = null;
    }
    this.#req = null;
    this.#res = null;
    this.#fallbackHeaders = null;
    this.#standIn = null;
    if (!this.#snap.config.logging.bodies) {
      this.#body = EMPTY;
      this.#sent = null;
    }
  }

  /** The record, once both outcomes are known; without what could not be built, if anything. */
  #finish(): void {
    this.#state = 'finished';
    let record: PairRecord;
    try {
      record = this.#record(true);
    } catch (err) {
      this.#ctx.recorder.fault(err);
      record = this.#record(false);
    }
    this.#ctx.recorder.end(record);
  }

  /** The one place the pair record is built (docs/records.md#pair-record). */
  #record(full: boolean): PairRecord {
    const snap = this.#snap;
    const cfg = snap.config;
    const why = this.#skip ?? 'not called';
    const champion = this.#champion ?? skipped(cfg.models.champion.version, why, snap.normalize !== null);
    const challenger = this.#challenger ?? skipped(cfg.models.challenger.version, why, snap.normalize !== null);
    const assigned = this.#group !== null;
    const record: PairRecord = {
      requestId: this.#id,
      route: this.#route.name,
      config: snap.id,
      assigned: !assigned ? null : this.#key === null ? 'random' : 'key',
      bucket: assigned ? this.#bucket : null,
      group: this.#group,
      served: assigned ? this.#answerRole : null,
      fallback: this.#fallback,
      champion,
      challenger,
      agree: champion.decision !== null && challenger.decision !== null ? champion.decision === challenger.decision : null,
      fields: fieldsOf(full ? this.#json : undefined, snap.fields),
    };
    const unit = snap.unitFor(this.#key);
    if (unit !== undefined) record.unit = unit;
    if (cfg.logging.bodies) {
      record.request = full ? bodyForRecord(this.#body, this.#json, snap.redact) : null;
      record.response = full && this.#sent !== null ? bodyForRecord(this.#sent, undefined, snap.redact) : null;
    }
    if (this.#error !== null) record.error = this.#error;
    return record;
  }
}
