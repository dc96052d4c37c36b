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
import type { Role } from '../config/types.js';
import { readUnitKey } from '../assignment/unit-key.js';
import { groupOf } from '../assignment/bucket.js';
import type { PairRecord, RequestErrorKind } from '../records/types.js';
import type { PreparedRoute, Snapshot } from '../runtime/snapshot.js';
import { evaluate, notEvaluated, type Evaluated } from '../scoring/outcome.js';
import { countInstances } from '../scoring/batch.js';
import type { Call, CallResult } from '../upstream/model-client.js';
import { EMPTY } from '../util/chunks.js';
import { writeError } from '../http/answer.js';
import { jsonOf, readBody, type BodyError, type BodyListener } from './body.js';
import { socketTimedOut } from '../http/client-error.js';
import type { ScoredContext } from './context.js';
import { upstreamHeaders } from './headers.js';
import { newFacts, pairRecord, type PairFacts } from './pair-record.js';
import { sendServed } from './served-answer.js';

type State = 'reading' | 'calling' | 'answered' | 'finished';

const CLIENT_GONE = 'client closed the connection';
const FAULT_ANSWER = 'ccrouter failed on this request';

/** A scored request whose reply fastify has handed over (hijacked); `start` sets it going. */
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
  /** What the record will say. */
  readonly #facts: PairFacts = newFacts();
  /** The role the group serves (whose answer the caller gets unless it falls back). */
  #served: Role = 'champion';
  /** Upstream headers for a fallback call (kept only when one may be needed). */
  #fallbackHeaders: string[] | null = null;
  /** Each call until it settles (a settled call needs no canceling). */
  #servedCall: Call | null = null;
  #shadowCall: Call | null = null;
  /** Calls started whose outcome is not known yet. */
  #outstanding = 0;
  /** A shadow champion's full result, kept until the challenger answered: it may stand in. */
  #standIn: Evaluated | null = null;

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
    const f = this.#facts;
    f.body = body;
    const batch = this.#route.batch;
    if (snap.needsJson || cfg.logging.bodies || batch !== null) f.json = jsonOf(body);
    if (snap.needsJson && f.json === undefined) {
      const why = snap.unit.kind === 'body' ? 'assignment.unit reads the body' : 'logging.fields read the body';
      return this.#refuse(400, 'bad_request', `request body is not valid JSON (${why})`);
    }
    // The whole batch goes to one group; its instances are counted once for both models.
    if (batch !== null) {
      f.batch = countInstances(batch, f.json);
      // Kept only for what reads it later (fields, bodies): a large batch is not held while a shadow call runs.
      if (!snap.needsJson && !cfg.logging.bodies) f.json = undefined;
    }
    // Assignment: docs/config.md#assignment-who-lands-in-which-group.
    f.key = snap.unit.kind === 'none' ? null : readUnitKey(snap.unit, { headers: req.headers, url: req.url!, json: f.json });
    f.bucket = f.key === null ? snap.random() : snap.bucketOf(f.key);
    const group = (f.group = groupOf(f.bucket, cfg.traffic));
    const served: Role = group === 'challenger' ? 'challenger' : 'champion';
    this.#served = f.answerRole = served;
    this.#ctx.recorder.assigned(group);

    const headers = upstreamHeaders(req.rawHeaders, req.headers, this.#id, req.socket.remoteAddress);
    headers.push('x-ccrouter-role', 'served');
    // A challenger-served request may fall back to the champion without a shadow champion call.
    if (served === 'challenger' && cfg.fallback === 'champion') this.#fallbackHeaders = headers;
    this.#state = 'calling';
    this.#servedCall = this.#call(served, headers, false);
    if (!cfg.traffic.shadow) {
      f.skip = 'traffic.shadow is off';
    } else if (!this.#ctx.shadow.take(cfg.traffic.shadowLimit)) {
      f.skip = `traffic.shadowLimit (${cfg.traffic.shadowLimit}) shadow calls in flight`;
      this.#ctx.recorder.shadowSkipped();
    } else {
      const shadowHeaders = headers.slice();
      shadowHeaders[shadowHeaders.length - 1] = 'shadow';
      this.#shadowCall = this.#call(served === 'champion' ? 'challenger' : 'champion', shadowHeaders, true);
    }
    // A call's result never comes before call() returned: the answer cannot be out yet.
    this.#onClose = () => this.#guard(() => this.#clientClosed());
    this.#res!.once('close', this.#onClose);
  }

  #call(role: Role, headers: string[], shadow: boolean): Call {
    this.#outstanding++;
    const req = this.#req!;
    const method = req.method!;
    const body = (method === 'GET' || method === 'HEAD') && this.#facts.body.length === 0 ? null : this.#facts.body;
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
      e = evaluate(result, scoring, this.#facts.batch);
    } catch (err) {
      this.#ctx.recorder.fault(err);
      e = notEvaluated(result, scoring, err, this.#facts.batch);
    }
    if (e instanceof Promise) {
      e.then(
        (v) => this.#evaluated(role, v),
        (err: unknown) => {
          this.#ctx.recorder.fault(err);
          this.#evaluated(role, notEvaluated(result, scoring, err, this.#facts.batch));
        },
      );
    } else {
      this.#evaluated(role, e);
    }
  }

  #evaluated(role: Role, e: Evaluated): void {
    this.#facts[role] = e.outcome;
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
    const f = this.#facts;
    if (f.fallback) {
      if (role === 'champion') this.#answer('champion', e);
    } else if (role === this.#served) {
      if (role === 'challenger' && e.outcome.error !== null && this.#snap.config.fallback === 'champion') {
        f.fallback = true;
        f.answerRole = 'champion';
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
    const f = this.#facts;
    f.sent = sendServed(this.#res!, this.#ctx.listener.draining, this.#snap, this.#id, f.group!, role, e, f.fallback);
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
    this.#facts.error = { kind: 'client_abort', message: 'client closed the connection before the answer' };
    this.#state = 'answered';
    this.#release();
    this.#servedCall?.cancel(CLIENT_GONE);
    this.#shadowCall?.cancel(CLIENT_GONE);
  }

  /** A request refused before any call: its answer (none when the client is gone) and its record. */
  #refuse(status: 400 | 413 | null, kind: RequestErrorKind, message: string): void {
    this.#facts.error = { kind, message };
    this.#facts.skip = `request rejected: ${kind}`;
    this.#state = 'answered';
    const res = this.#res!;
    this.#release();
    if (status !== null) writeError(res, status === 413 ? 'too_large' : 'bad_request', message, this.#id, status === 413 || this.#ctx.listener.draining);
    this.#finish();
  }

  /** A throw on this request's path: counted, answered 500 if nothing was sent, recorded all the same. */
  #fault(err: unknown): void {
    this.#ctx.recorder.fault(err);
    if (this.#state === 'reading' || this.#state === 'calling') {
      this.#facts.error = { kind: 'internal_error', message: `${FAULT_ANSWER}: ${err instanceof Error ? err.message : String(err)}` };
      this.#facts.skip ??= 'not called: internal error';
      this.#state = 'answered';
      const res = this.#res;
      this.#release();
      try {
        if (res !== null && !res.headersSent) writeError(res, 'internal_error', FAULT_ANSWER, this.#id, true);
        else res?.destroy();
      } catch {
        res?.destroy();
      }
    }
    if (this.#state === 'answered' && this.#outstanding === 0) this.#finish();
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#fault(err);
    }
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
      this.#facts.body = EMPTY;
      this.#facts.sent = null;
    }
  }

  /** The record, once both outcomes are known; without what could not be built, if anything. */
  #finish(): void {
    this.#state = 'finished';
    let record: PairRecord;
    try {
      record = pairRecord(this.#snap, this.#route, this.#id, this.#facts, true);
    } catch (err) {
      this.#ctx.recorder.fault(err);
      record = pairRecord(this.#snap, this.#route, this.#id, this.#facts, false);
    }
    this.#ctx.recorder.end(record);
  }
}
