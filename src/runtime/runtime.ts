/**
 * The runtime (docs/design.md#the-runtime): the file's last good config, the levers on top of it,
 * the model clients and the recorder, composed into the snapshot that requests read. Each part keeps
 * its own state behind its methods; this class wires them, rebuilds the snapshot when the effective
 * config changes, and writes the event that announces each change.
 */
import type { Config, LoadedConfig } from '../config/types.js';
import { createRandomSource, type RandomSource } from '../assignment/bucket.js';
import type { Metrics } from '../metrics.js';
import type { RecordSink } from '../records/sink.js';
import type { EventType, PairRecord } from '../records/types.js';
import { effectiveConfig, type LeverValues } from './effective.js';
import { Levers, type RampState } from './levers.js';
import { ModelClients } from './model-clients.js';
import { Recorder, type Counters } from './recorder.js';
import { prepareSnapshot, routeKey, type Snapshot } from './snapshot.js';

/** The file config and the lever values: enough to rebuild the effective config in another process. */
export interface RuntimeState {
  file: LoadedConfig;
  levers: LeverValues;
}

export interface RuntimeOptions {
  loaded: LoadedConfig;
  metrics: Metrics;
  pairs: RecordSink<PairRecord>;
  events: RecordSink;
  /** Seed suffix for the no-key generator (workers: `String(seed) + ":" + k`). */
  seedSuffix?: string;
  /** The counters `/status` shows, from this process's own (the primary sums its workers'). */
  counters?: (own: Counters) => Counters;
}

export class Runtime {
  readonly metrics: Metrics;
  readonly levers: Levers;
  readonly recorder: Recorder;
  readonly #clients = new ModelClients();
  readonly #seedSuffix: string | undefined;
  readonly #counters: (own: Counters) => Counters;
  readonly #configListeners = new Set<() => void>();
  readonly #stateListeners = new Set<(state: RuntimeState) => void>();
  readonly #statusParts = new Map<string, () => object>();
  #file: LoadedConfig;
  #applied: LeverValues;
  #random: RandomSource;
  #snapshot!: Snapshot;

  constructor(options: RuntimeOptions) {
    this.metrics = options.metrics;
    this.recorder = new Recorder(options.pairs, options.events);
    const recorder = this.recorder;
    this.metrics.countFrom(() => ({ ...recorder.counters(), faults: recorder.faults }));
    this.#seedSuffix = options.seedSuffix;
    this.#counters = options.counters ?? ((own) => own);
    this.#file = options.loaded;
    this.levers = new Levers(options.loaded.config.mode === 'bypass');
    this.#applied = this.levers.values();
    this.#random = this.#randomFor(options.loaded.config);
    // A file load or an adoption applies itself once the file is in place too.
    this.levers.onChange((change) => {
      if (change !== 'reset' && change !== 'adopt' && this.#leversMoved()) this.#apply();
    });
    this.#apply();
  }

  /** What a request reads: swapped whole, never changed in place. */
  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** The file's config (the last good one), before the levers. */
  get fileConfig(): LoadedConfig {
    return this.#file;
  }

  get guardrail(): { tripped: boolean; rule: string | null } {
    return this.levers.guardrail;
  }

  get ramp(): RampState {
    return this.levers.ramp;
  }

  get pendingRecords(): number {
    return this.recorder.pending;
  }

  /** Calls in flight to both models. */
  get upstreamInflight(): number {
    return this.#clients.inflight;
  }

  /** Write the `start` event; called once the listeners are up. */
  started(): void {
    this.event('start');
  }

  /** An event stamped with the effective config id and fractions in force after it. */
  event(type: EventType, extra: Record<string, unknown> = {}): void {
    const { traffic: t, fleet } = this.#snapshot.config;
    const instance = fleet === undefined ? {} : { instance: fleet.instance };
    this.recorder.event({ type, config: this.#snapshot.id, ...instance, traffic: { control: t.control, challenger: t.challenger }, ...extra });
  }

  /** `extra`: more fields for the event (a lever adopted from the fleet names its `origin`). */
  setBypass(on: boolean, source: string, extra: Record<string, unknown> = {}): void {
    this.levers.setBypass(on);
    this.event('bypass', { on, source, ...extra });
  }

  /** Challenger fraction forced to 0 until the next config load. */
  rollback(source: string, extra: Record<string, unknown> = {}): void {
    this.levers.rollback();
    this.event('rollback', { source, ...extra });
  }

  /** A block `/status` shows under `key` (the fleet's), read at each call. */
  addStatus(key: string, read: () => object): void {
    this.#statusParts.set(key, read);
  }

  /**
   * A new valid file config: clears rollback, guardrail trip and ramp progress; `mode` from the file
   * applies only when it changed in the file (docs/config.md#reloading).
   */
  loadFileConfig(loaded: LoadedConfig): void {
    const previous = this.#file.config;
    this.#file = loaded;
    this.#followSeed(loaded.config, previous);
    this.levers.reset(loaded.config.mode !== previous.mode ? loaded.config.mode === 'bypass' : this.levers.bypass);
    this.#apply();
    for (const listener of this.#configListeners) listener();
  }

  /** What another process needs to reproduce this effective config exactly. */
  exportState(): RuntimeState {
    return { file: this.#file, levers: this.levers.values() };
  }

  /** Take the primary's state (a worker); writes no event: the primary announced it. */
  importState(state: RuntimeState): void {
    const fileChanged = state.file.id !== this.#file.id;
    this.#followSeed(state.file.config, this.#file.config);
    this.#file = state.file;
    this.levers.adopt(state.levers);
    this.#apply();
    if (fileChanged) for (const listener of this.#configListeners) listener();
  }

  /** Called after each new file config took effect; returns the function that unsubscribes. */
  onConfigLoad(listener: () => void): () => void {
    this.#configListeners.add(listener);
    return () => this.#configListeners.delete(listener);
  }

  /** Called after every change of the effective config (workers follow their primary through it). */
  onStateChange(listener: (state: RuntimeState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  status(): object {
    const s = this.#snapshot;
    const parts = Object.fromEntries([...this.#statusParts].map(([key, read]) => [key, read()]));
    return {
      mode: s.config.mode,
      config: s.id,
      traffic: { control: s.config.traffic.control, challenger: s.config.traffic.challenger },
      shadow: s.config.traffic.shadow,
      counters: this.#counters(this.recorder.counters()),
      guardrails: this.levers.guardrail,
      ramp: this.levers.ramp,
      ...parts,
    };
  }

  cancelAll(message: string): void {
    this.#clients.cancelAll(message);
  }

  async close(): Promise<void> {
    await this.#clients.close();
  }

  #leversMoved(): boolean {
    const now = this.levers.values();
    const was = this.#applied;
    return now.bypass !== was.bypass || now.rolledBack !== was.rolledBack || now.rampFraction !== was.rampFraction;
  }

  #apply(): void {
    this.#applied = this.levers.values();
    const { config, id } = effectiveConfig(this.#file, this.#applied);
    this.#snapshot = prepareSnapshot(config, id, this.#clients.for(config), this.#random, this.#file.calibration);
    this.metrics.setRunning(id, config, config.routes.map((r) => routeKey(r.method, r.path)));
    if (this.#stateListeners.size > 0) {
      const state = this.exportState();
      for (const listener of this.#stateListeners) listener(state);
    }
  }

  /** A new `assignment.seed` restarts the no-key generator; any other change keeps its sequence. */
  #followSeed(next: Config, previous: Config): void {
    if (String(next.assignment.seed) !== String(previous.assignment.seed)) this.#random = this.#randomFor(next);
  }

  #randomFor(config: Config): RandomSource {
    const seed = config.assignment.seed;
    if (seed === undefined) return createRandomSource(undefined);
    return createRandomSource(this.#seedSuffix === undefined ? String(seed) : String(seed) + ':' + this.#seedSuffix);
  }
}
