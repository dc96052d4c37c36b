/**
 * Levers shared by a fleet of instances through Redis (docs/operations.md, "Fleet: levers shared over
 * Redis"). The process that owns the levers (alone, or the primary of `--workers`) runs one Fleet: it
 * writes each lever taken here, adopts those taken elsewhere, and shares the ramp schedule's origin.
 *
 * Nothing here is on a request's path: levers apply locally at once and are written in the
 * background; a change elsewhere arrives by the channel, and a periodic read catches what the
 * channel missed. While Redis is away the instance keeps its last state, and each lever taken
 * meanwhile is written when it is back: for the kill switch the later change wins, a rollback
 * stands once taken, a ramp origin stands once stored. Values that fail their check are counted and
 * never applied.
 */
import type { FleetConfig } from '../config/types.js';
import type { RampOrigin, RampShare } from '../guardrails/ramp.js';
import type { Runtime } from '../runtime/runtime.js';
import {
  fleetKeys, isLater, scopeId, parseBypass, parseRamp, parseRollback, parseVersion,
  type BypassValue, type FleetKeys, type RampValue,
} from './keys.js';
import { FleetLink } from './link.js';
import { fleetMetrics, SyncErrors } from './metrics.js';
import { SET_BYPASS, SET_RAMP, SET_ROLLBACK } from './scripts.js';
import { FleetStore } from './store.js';

export interface FleetOptions {
  /** The periodic read that catches what the channel missed (default 500 ms). */
  readEveryMs?: number;
  /** Where the fleet says what went wrong (default: stderr). */
  tell?: (line: string) => void;
}

export interface FleetStatus {
  name: string;
  instance: string;
  connected: boolean;
  /** The fleet's change counter (`version` key) as last read; 0 before any. */
  version: number;
}

interface SharedRamp {
  /** The ramp schedule's name for the file config (its config id). */
  fileId: string;
  /** The fleet's (keys.ts `scopeId`). */
  scope: string;
  value: RampValue;
  adopt: (origin: RampOrigin) => void;
}

export class Fleet implements RampShare {
  readonly #rt: Runtime;
  readonly #cfg: FleetConfig;
  readonly #keys: FleetKeys;
  readonly #link: FleetLink;
  readonly #store: FleetStore | null = null;
  readonly #timer: NodeJS.Timeout | null = null;
  readonly #offLevers: () => void;
  #version = 0;
  #seq = 0;
  /** The kill switch as this instance knows it; at 0: the file's, never written. */
  #bypass: BypassValue;
  /** The file config the rollback and ramp keys belong to (keys.ts `scopeId`). */
  #scope: string;
  #ramp: SharedRamp | null = null;
  /** The rule of a guardrail trip in this very turn of the event loop (its rollback follows at once). */
  #tripRule: string | null = null;
  /** The rule behind this file config's rollback: null for an admin's. */
  #rollbackRule: string | null = null;
  /** Adopting a lever from elsewhere: the change it makes here is not written back. */
  #adopting = false;
  #reading = false;
  #readAgain = false;
  readonly #errors: SyncErrors;
  #closed = false;

  constructor(rt: Runtime, cfg: FleetConfig, options: FleetOptions = {}) {
    this.#rt = rt;
    this.#cfg = cfg;
    this.#keys = fleetKeys(cfg.name);
    const metrics = fleetMetrics(rt.metrics.registry);
    this.#errors = new SyncErrors(metrics.syncErrors);
    this.#link = new FleetLink({
      tell: options.tell ?? ((line) => void process.stderr.write(line + '\n')),
      event: (type, fields) => rt.event(type, fields),
      gauge: metrics.connected,
    });
    this.#scope = scopeId(rt.fileConfig.config);
    this.#bypass = { on: rt.levers.bypass, at: 0, origin: cfg.instance, seq: 0 };
    this.#offLevers = rt.levers.onChange((change) => {
      if (this.#adopting || this.#closed) return;
      if (change === 'bypass') this.#localBypass();
      else if (change === 'trip') this.#tripped();
      else if (change === 'rollback') {
        this.#rollbackRule = this.#tripRule;
        void this.#writeRollback();
      } else if (change === 'reset') this.#fileLoaded();
    });
    rt.addStatus('fleet', () => this.status());
    try {
      this.#store = new FleetStore(cfg.redis, `ccrouter:${cfg.instance}`, this.#keys.channel, {
        up: () => this.#up(),
        down: (reason) => this.#down(reason),
        message: () => this.#read(),
      });
    } catch (err) {
      this.#link.unusable((err as Error).message);
      return;
    }
    this.#store.start();
    const every = options.readEveryMs ?? 500;
    this.#timer = setInterval(() => this.#read(), every);
    this.#timer.unref();
  }

  status(): FleetStatus {
    return { name: this.#cfg.name, instance: this.#cfg.instance, connected: this.#link.connected, version: this.#version };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#offLevers();
    if (this.#timer) clearInterval(this.#timer);
    await this.#store?.close();
    this.#link.closed();
  }

  // --- RampShare: the ramp schedule's origin, per file config ---

  join(fileId: string, origin: RampOrigin, adopt: (origin: RampOrigin) => void): void {
    this.#ramp = { fileId, scope: this.#scope, value: { start: origin.start, held: origin.held, origin: this.#cfg.instance }, adopt };
    void this.#writeRamp();
  }

  hold(fileId: string, origin: RampOrigin): void {
    const r = this.#ramp;
    if (r === null || r.fileId !== fileId) return;
    r.value = { start: origin.start, held: origin.held, origin: r.value.origin };
    void this.#writeRamp();
  }

  // --- the connection ---

  #up(): void {
    if (this.#closed) return;
    this.#link.up();
    // What was taken here meanwhile is written by the read (each value here later than Redis's).
    this.#read();
  }

  #down(reason: string): void {
    if (!this.#closed) this.#link.down(reason);
  }

  // --- local levers → Redis ---

  #localBypass(): void {
    const on = this.#rt.levers.bypass;
    // Never earlier than a change already seen: a change made after seeing one is the later one.
    const at = Math.max(Date.now(), this.#bypass.at + 1);
    this.#bypass = { on, at, origin: this.#cfg.instance, seq: ++this.#seq };
    void this.#writeBypass();
  }

  /**
   * A guardrail with `action: rollback` trips and rolls back in one go; an `alert` trip only trips. So
   * the rule belongs to a rollback only when it comes in the same turn.
   */
  #tripped(): void {
    this.#tripRule = this.#rt.levers.guardrail.rule;
    queueMicrotask(() => { this.#tripRule = null; });
  }

  #fileLoaded(): void {
    this.#rollbackRule = null;
    this.#scope = scopeId(this.#rt.fileConfig.config);
    this.#errors.clear();
    // `mode` changed in the file: a kill switch change like any other.
    if (this.#rt.levers.bypass !== this.#bypass.on) this.#localBypass();
    this.#read();
  }

  async #writeBypass(): Promise<void> {
    const v = this.#bypass;
    const reply = await this.#script(SET_BYPASS, this.#keys.bypass, JSON.stringify(v), 'bypass', [String(v.at), String(v.seq)]);
    if (reply !== null) this.#takeBypass(reply);
  }

  async #writeRollback(): Promise<void> {
    const fileId = this.#scope;
    const value = { at: Date.now(), origin: this.#cfg.instance, rule: this.#rollbackRule };
    const key = this.#keys.rollback(fileId);
    const reply = await this.#script(SET_ROLLBACK, key, JSON.stringify(value), 'rollback:' + fileId, []);
    if (reply !== null && fileId === this.#scope) this.#takeRollback(key, reply);
  }

  async #writeRamp(): Promise<void> {
    const r = this.#ramp;
    if (r === null) return;
    const key = this.#keys.ramp(r.scope);
    const reply = await this.#script(SET_RAMP, key, JSON.stringify(r.value), 'ramp:' + r.scope, [String(r.value.start), String(r.value.held)]);
    if (reply !== null && this.#ramp === r) this.#takeRamp(key, r, reply);
  }

  /** One script; the value it left stored, or null (not connected, or a refusal, counted). */
  async #script(script: string, key: string, value: string, message: string, args: string[]): Promise<unknown> {
    const store = this.#store;
    if (store === null || !store.up) return null;
    try {
      const reply = await store.command(['EVAL', script, '2', key, this.#keys.version, value, this.#keys.channel, message, ...args]);
      if (!Array.isArray(reply) || reply.length !== 2) return this.#errors.count();
      this.#takeVersion(reply[1]);
      return reply[0] ?? null;
    } catch (err) {
      return this.#failed(err);
    }
  }

  // --- Redis → local levers ---

  /** Read every key this instance follows; reads asked for meanwhile are folded into one more. */
  #read(): void {
    const store = this.#store;
    if (store === null || !store.up || this.#closed) return;
    if (this.#reading) {
      this.#readAgain = true;
      return;
    }
    this.#reading = true;
    const fileId = this.#scope;
    const ramp = this.#ramp;
    const keys = [this.#keys.bypass, this.#keys.rollback(fileId), this.#keys.ramp(ramp?.scope ?? fileId), this.#keys.version];
    store.command(['MGET', ...keys])
      .then((reply) => {
        if (!Array.isArray(reply) || reply.length !== keys.length) return void this.#errors.count();
        this.#takeVersion(reply[3]);
        this.#takeBypass(reply[0]);
        if (fileId === this.#scope) this.#takeRollback(keys[1]!, reply[1]);
        if (ramp !== null && ramp === this.#ramp) this.#takeRamp(keys[2]!, ramp, reply[2]);
      }, (err: unknown) => void this.#failed(err))
      .finally(() => {
        this.#reading = false;
        if (this.#readAgain) {
          this.#readAgain = false;
          this.#read();
        }
      });
  }

  #takeVersion(raw: unknown): void {
    const p = this.#errors.checked(this.#keys.version, raw, parseVersion);
    if (!p.ok) return;
    this.#version = p.value!;
  }

  #takeBypass(raw: unknown): void {
    const p = this.#errors.checked(this.#keys.bypass, raw, parseBypass);
    if (!p.ok) return;
    const stored = p.value;
    const local = this.#bypass;
    if (stored === null) {
      if (local.at > 0) void this.#writeBypass();
      return;
    }
    if (isLater(local, stored)) return void this.#writeBypass();
    if (stored.at === local.at && stored.seq === local.seq && stored.origin === local.origin && stored.on === local.on) return;
    this.#bypass = stored;
    if (stored.on !== this.#rt.levers.bypass) this.#adopt(() => this.#rt.setBypass(stored.on, 'fleet', { origin: stored.origin }));
  }

  #takeRollback(key: string, raw: unknown): void {
    const p = this.#errors.checked(key, raw, parseRollback);
    if (!p.ok) return;
    const stored = p.value;
    const levers = this.#rt.levers;
    if (stored === null) {
      if (levers.rolledBack) void this.#writeRollback();
      return;
    }
    if (levers.rolledBack) return;
    this.#rollbackRule = stored.rule;
    this.#adopt(() => {
      if (stored.rule !== null && !levers.guardrail.tripped) levers.trip(stored.rule);
      this.#rt.rollback('fleet', stored.rule === null ? { origin: stored.origin } : { origin: stored.origin, rule: stored.rule });
    });
  }

  #takeRamp(key: string, r: SharedRamp, raw: unknown): void {
    const p = this.#errors.checked(key, raw, parseRamp);
    if (!p.ok) return;
    const stored = p.value;
    if (stored === null) return void this.#writeRamp();
    const local = r.value;
    if (stored.start === local.start && stored.held === local.held) return;
    if (stored.start === local.start && local.held > stored.held) return void this.#writeRamp();
    r.value = stored;
    this.#adopt(() => r.adopt({ start: stored.start, held: stored.held }));
  }

  #adopt(apply: () => void): void {
    this.#adopting = true;
    try {
      apply();
    } finally {
      this.#adopting = false;
    }
  }

  /** A command that failed: counted when the connection was up (Redis refused it), else only waited out. */
  #failed(err: unknown): null {
    if (this.#store?.up && !this.#closed && !/offline|closed|socket/i.test((err as Error)?.message ?? '')) this.#errors.count();
    return null;
  }
}
