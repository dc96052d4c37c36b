/**
 * The recorder: the record sinks, the request counters, and the pair records still owed. Each pair
 * record it writes is published on the `ccrouter:pair` diagnostics channel, which metrics,
 * guardrails and the cluster workers subscribe to (docs/design.md#from-record-to-report).
 */
import dc from 'node:diagnostics_channel';
import type { Group } from '../config/types.js';
import type { RecordSink } from '../records/sink.js';
import type { PairRecord } from '../records/types.js';

/** The channel every written pair record is published on. */
export const PAIR_CHANNEL = 'ccrouter:pair';

/** A message on `ccrouter:pair`. */
export interface PairMessage {
  readonly record: PairRecord;
  /** The recorder that wrote it: one per proxy, several in a process that runs several. */
  readonly source: Recorder;
}

export interface Counters {
  requests: { control: number; champion: number; challenger: number };
  shadowSkipped: number;
  fallbacks: number;
  logWriteErrors: number;
}

const channel = dc.channel(PAIR_CHANNEL);
/** Faults told on stderr in full; later ones are only counted. */
const FAULTS_TOLD = 10;

export class Recorder {
  readonly #pairs: RecordSink<PairRecord>;
  readonly #events: RecordSink;
  readonly #counters: Counters = { requests: { control: 0, champion: 0, challenger: 0 }, shadowSkipped: 0, fallbacks: 0, logWriteErrors: 0 };
  #faults = 0;
  #pending = 0;

  constructor(pairs: RecordSink<PairRecord>, events: RecordSink) {
    this.#pairs = pairs;
    this.#events = events;
  }

  /** Pair records owed: requests taken in and not yet recorded (a shadow call may still run). */
  get pending(): number {
    return this.#pending;
  }

  /** Faults of ccrouter's own caught on a request's path (docs/reliability.md). */
  get faults(): number {
    return this.#faults;
  }

  /** A copy of the counters. */
  counters(): Counters {
    const c = this.#counters;
    return { requests: { ...c.requests }, shadowSkipped: c.shadowSkipped, fallbacks: c.fallbacks, logWriteErrors: c.logWriteErrors };
  }

  assigned(group: Group): void {
    this.#counters.requests[group]++;
  }

  shadowSkipped(): void {
    this.#counters.shadowSkipped++;
  }

  fellBack(): void {
    this.#counters.fallbacks++;
  }

  writeFailed(): void {
    this.#counters.logWriteErrors++;
  }

  fault(err: unknown): void {
    const n = ++this.#faults;
    if (n > FAULTS_TOLD) return;
    const text = err instanceof Error ? err.stack ?? err.message : String(err);
    const more = n === FAULTS_TOLD ? ' (further faults are counted in ccrouter_internal_errors_total)' : '';
    process.stderr.write(`ccrouter: internal error on a request, answered and recorded${more}: ${text}\n`);
  }

  /** A request will end in one pair record. */
  begin(): void {
    this.#pending++;
  }

  /** The pair record of a request announced by `begin`. */
  end(record: PairRecord): void {
    this.#pending--;
    this.write(record);
  }

  /**
   * Write a pair record and publish it. The sink never throws: a record it cannot serialize is
   * written degraded and counted (docs/records.md, "Records that cannot be serialized").
   */
  write(record: PairRecord): void {
    this.#pairs.write(record, 'pair');
    this.relay(record);
  }

  /** Publish a record written elsewhere (the primary relays its workers' for its guardrails). */
  relay(record: PairRecord): void {
    if (channel.hasSubscribers) channel.publish({ record, source: this } satisfies PairMessage);
  }

  /** Follow this recorder's pair records; a listener that throws is counted as a fault. */
  onPair(listener: (record: PairRecord) => void): () => void {
    const onMessage = (message: unknown) => {
      const m = message as PairMessage;
      if (m.source !== this) return;
      try {
        listener(m.record);
      } catch (err) {
        this.fault(err);
      }
    };
    dc.subscribe(PAIR_CHANNEL, onMessage);
    return () => void dc.unsubscribe(PAIR_CHANNEL, onMessage);
  }

  event(record: object): void {
    this.#events.write(record, 'event');
  }

  /** Synchronous flush of both sinks (the uncaught-error path). */
  flush(): void {
    this.#pairs.flush();
    this.#events.flush();
  }
}
