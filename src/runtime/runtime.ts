/**
 * The proxy's mutable state in one place: the file's last good config, the runtime levers on top of
 * it (bypass, rollback, ramp step), the snapshot they yield, counters, and the record sinks.
 * Every change of the effective config goes through `#apply`, which computes the new id and
 * writes the event announcing it.
 */
import type { Config, LoadedConfig, Role } from '../config/types.js';
import { configId } from '../config/id.js';
import { createRandomSource, type RandomSource } from '../assignment/bucket.js';
import type { Metrics } from '../metrics.js';
import type { RecordSink } from '../records/sink.js';
import type { EventType, PairRecord } from '../records/types.js';
import { ModelClient, SERVED_CONNECTIONS } from '../upstream/model-client.js';
import { prepareSnapshot, type Snapshot } from './snapshot.js';

export interface Counters {
  requests: { control: number; champion: number; challenger: number };
  shadowSkipped: number;
  fallbacks: number;
  logWriteErrors: number;
}

/** The file config and the levers on top of it: enough to rebuild the effective config anywhere. */
export interface RuntimeState {
  file: LoadedConfig;
  levers: Levers;
}

export interface RuntimeOptions {
  loaded: LoadedConfig;
  metrics: Metrics;
  pairs: RecordSink<PairRecord>;
  events: RecordSink;
  /** Seed suffix for the no-key generator (workers: `String(seed) + ":" + k`). */
  seedSuffix?: string;
}

/** Levers that change the effective config without a file change. */
export interface Levers {
  bypass: boolean;
  rolledBack: boolean;
  /** Current ramp fraction when a schedule moved it away from the file's. */
  rampFraction: number | null;
}

export class Runtime {
  readonly metrics: Metrics;
  readonly pairs: RecordSink<PairRecord>;
  readonly events: RecordSink;
  readonly counters: Counters = {
    requests: { control: 0, champion: 0, challenger: 0 },
    shadowSkipped: 0,
    fallbacks: 0,
    logWriteErrors: 0,
  };
  readonly guardrail = { tripped: false, rule: null as string | null };
  readonly ramp = { step: null as number | null, next: null as number | null };
  /** Shadow calls in flight, bounded by `traffic.shadowLimit`. */
  shadowInflight = 0;
  /** Pair records not yet written (their shadow call is still running). */
  pendingRecords = 0;
  rng: RandomSource;
  /** Observers of every written pair record (guardrails); keep them cheap: they run per request. */
  readonly pairObservers: Array<(record: PairRecord) => void> = [];
  /** Called after a new file config took effect (guardrail windows and the ramp restart). */
  readonly configObservers: Array<() => void> = [];
  /** Called after every change of the effective config (workers follow the primary through it). */
  readonly stateObservers: Array<(state: RuntimeState) => void> = [];
  /** With workers, the primary's /status sums the workers' counters through this. */
  countersProvider: (() => Counters) | null = null;

  #file: LoadedConfig;
  #levers: Levers;
  #snapshot!: Snapshot;
  readonly #clients = new Map<string, ModelClient>();
  readonly #seedSuffix: string | undefined;

  constructor(options: RuntimeOptions) {
    this.metrics = options.metrics;
    this.pairs = options.pairs;
    this.events = options.events;
    this.#seedSuffix = options.seedSuffix;
    this.#file = options.loaded;
    this.#levers = { bypass: options.loaded.config.mode === 'bypass', rolledBack: false, rampFraction: null };
    this.rng = this.#rngFor(options.loaded.config);
    this.#apply();
  }

  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  get bypass(): boolean {
    return this.#levers.bypass;
  }

  /** A rollback is in force (until the next config load). */
  get rolledBack(): boolean {
    return this.#levers.rolledBack;
  }

  /** The file's config (the last good one), before runtime levers. */
  get fileConfig(): LoadedConfig {
    return this.#file;
  }

  /** Write the `start` event; called once the listeners are up. */
  started(): void {
    this.event('start');
  }

  event(type: EventType, extra: Record<string, unknown> = {}): void {
    const t = this.#snapshot.config.traffic;
    this.events.write({ type, config: this.#snapshot.id, traffic: { control: t.control, challenger: t.challenger }, ...extra }, 'event');
  }

  writePair(record: PairRecord): void {
    this.pairs.write(record, 'pair');
    this.metrics.observePair(record);
    for (const observe of this.pairObservers) observe(record);
  }

  /** Synchronous flush of every sink (uncaught-error path). */
  flushRecords(): void {
    this.pairs.flush();
    this.events.flush();
  }

  logWriteFailed(): void {
    this.counters.logWriteErrors++;
    this.metrics.logWriteErrors.inc();
  }

  setBypass(on: boolean, source: string): void {
    this.#levers.bypass = on;
    this.#apply();
    this.event('bypass', { on, source });
  }

  /** Challenger fraction forced to 0 until the next config load. */
  rollback(source: string): void {
    this.#levers.rolledBack = true;
    this.#apply();
    this.event('rollback', { source });
  }

  /** Move the challenger fraction (ramp schedule); announced by the caller's event. */
  setRampFraction(fraction: number): void {
    this.#levers.rampFraction = fraction;
    this.#apply();
  }

  /**
   * A new valid file config: clears rollback, guardrail trip and ramp progress; `mode` from the
   * file applies only when it changed in the file (SPEC 3).
   */
  loadFileConfig(loaded: LoadedConfig): void {
    const previous = this.#file.config;
    this.#file = loaded;
    const bypass = loaded.config.mode !== previous.mode ? loaded.config.mode === 'bypass' : this.#levers.bypass;
    this.#levers = { bypass, rolledBack: false, rampFraction: null };
    this.guardrail.tripped = false;
    this.guardrail.rule = null;
    if (String(loaded.config.assignment.seed) !== String(previous.assignment.seed)) this.rng = this.#rngFor(loaded.config);
    this.#apply();
    for (const observe of this.configObservers) observe();
  }

  /** The effective config: the file's with the levers applied. */
  effectiveConfig(): Config {
    const file = this.#file.config;
    const { bypass, rolledBack, rampFraction } = this.#levers;
    const challenger = rolledBack ? 0 : rampFraction ?? file.traffic.challenger;
    const mode = bypass ? 'bypass' : 'normal';
    if (challenger === file.traffic.challenger && mode === file.mode) return file;
    return Object.freeze({ ...file, mode, traffic: Object.freeze({ ...file.traffic, challenger }) });
  }

  /** What another process needs to reproduce this effective config exactly. */
  exportState(): RuntimeState {
    return { file: this.#file, levers: { ...this.#levers } };
  }

  /** Take the primary's state (a worker); writes no event: the primary announced it. */
  importState(state: RuntimeState): void {
    const seedChanged = String(state.file.config.assignment.seed) !== String(this.#file.config.assignment.seed);
    const fileChanged = state.file.id !== this.#file.id;
    this.#file = state.file;
    this.#levers = { ...state.levers };
    if (seedChanged) this.rng = this.#rngFor(state.file.config);
    this.#apply();
    if (fileChanged) for (const observe of this.configObservers) observe();
  }

  status(): object {
    const s = this.#snapshot;
    const counters = this.countersProvider ? this.countersProvider() : this.counters;
    return {
      mode: s.config.mode,
      config: s.id,
      traffic: { control: s.config.traffic.control, challenger: s.config.traffic.challenger },
      shadow: s.config.traffic.shadow,
      counters,
      guardrails: { tripped: this.guardrail.tripped, rule: this.guardrail.rule },
      ramp: { step: this.ramp.step, next: this.ramp.next },
    };
  }

  /** Calls in flight to both models. */
  get upstreamInflight(): number {
    let n = 0;
    for (const c of this.#clients.values()) n += c.inflight;
    return n;
  }

  cancelAll(message: string): void {
    for (const c of this.#clients.values()) c.cancelAll(message);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((c) => c.destroy()));
    this.#clients.clear();
  }

  #apply(): void {
    const config = this.effectiveConfig();
    const id = config === this.#file.config ? this.#file.id : configId(config);
    const clients = { champion: this.#client(config, 'champion'), challenger: this.#client(config, 'challenger') };
    this.#snapshot = prepareSnapshot(config, id, clients, this.#file.calibration);
    this.#retireClients(clients);
    this.metrics.setFractions(config.traffic.control, config.traffic.challenger);
    if (this.stateObservers.length > 0) {
      const state = this.exportState();
      for (const observe of this.stateObservers) observe(state);
    }
  }

  #client(config: Config, role: Role): ModelClient {
    const m = config.models[role];
    // Served and shadow calls share a model's pool; shadow calls may hold shadowLimit connections.
    const connections = config.traffic.shadowLimit + SERVED_CONNECTIONS;
    const key = JSON.stringify([m.url, m.timeoutMs, connections]);
    let client = this.#clients.get(key);
    if (!client) {
      client = new ModelClient(m, { connections });
      this.#clients.set(key, client);
    }
    return client;
  }

  /** Clients no longer used finish their calls in flight, then close. */
  #retireClients(used: Record<Role, ModelClient>): void {
    for (const [key, client] of this.#clients) {
      if (client === used.champion || client === used.challenger) continue;
      this.#clients.delete(key);
      void client.close();
    }
  }

  #rngFor(config: Config): RandomSource {
    const seed = config.assignment.seed;
    if (seed === undefined) return createRandomSource(undefined);
    return createRandomSource(this.#seedSuffix === undefined ? String(seed) : String(seed) + ':' + this.#seedSuffix);
  }
}
