/**
 * Prometheus metrics (docs/operations.md#metrics). Label values are bounded: roles, groups, kinds
 * and configured routes only — never a request id or a unit key. Per-record figures come from the
 * pair records the serving process subscribes this to (`observePair`); the recorder's counters are
 * read at scrape time (`countFrom`).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics, type CounterConfiguration, type Metric } from 'prom-client';
import type { Config } from './config/types.js';
import type { ModelOutcome, PairRecord } from './records/types.js';

const SCORE_BUCKETS = Array.from({ length: 20 }, (_, i) => Math.round((i + 1) * 0.05 * 100) / 100);
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Every kind a model call can fail with (`skipped` is no call, so not counted). */
const ERROR_KINDS = ['timeout', 'connect', 'status', 'parse', 'too_large', 'canceled'] as const;
/** The (group, served) pairs a pair record can carry: rejected, control, champion, challenger, challenger after a fallback. */
const GROUP_SERVED = [['none', 'none'], ['control', 'champion'], ['champion', 'champion'], ['challenger', 'challenger'], ['challenger', 'champion']] as const;
/**
 * prom-client's gauges whose names end in `_total`, which `promtool check metrics` refuses for a
 * gauge; each is the sum over the `type` label of the gauge of the same name without it.
 */
const DROPPED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

interface HistogramValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * A histogram with one label whose children count into plain arrays; prom-client reads it at scrape
 * time through `get()`, in prom-client's own format (so AggregatorRegistry merges workers' values).
 * prom-client's Histogram hashes and validates the label set on every observe(), even on a child.
 */
class PlainHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #children = new Map<string, { counts: Float64Array; sum: number; count: number }>();

  constructor(readonly name: string, readonly help: string, readonly label: string, readonly buckets: readonly number[], registry: Registry) {
    registry.registerMetric(this as unknown as Metric);
  }

  child(value: string): { observe(v: number): void } {
    const c = { counts: new Float64Array(this.buckets.length), sum: 0, count: 0 };
    this.#children.set(value, c);
    const buckets = this.buckets;
    return {
      observe(v: number) {
        c.sum += v;
        c.count++;
        for (let i = 0; i < buckets.length; i++) {
          if (v <= buckets[i]!) {
            c.counts[i]!++;
            break;
          }
        }
      },
    };
  }

  async get(): Promise<{ name: string; help: string; type: 'histogram'; values: HistogramValue[]; aggregator: 'sum' }> {
    const values: HistogramValue[] = [];
    for (const [value, c] of this.#children) {
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += c.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le: this.buckets[i]!, [this.label]: value }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', [this.label]: value }, value: c.count });
      values.push({ metricName: `${this.name}_sum`, labels: { [this.label]: value }, value: c.sum });
      values.push({ metricName: `${this.name}_count`, labels: { [this.label]: value }, value: c.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }

  reset(): void {
    for (const c of this.#children.values()) {
      c.counts.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }
}

/**
 * A prom-client Counter fed from plain numbers: the hot path adds to a slot, the scrape publishes
 * every slot (prom-client's inc() hashes the label set on every call).
 */
class PlainCounter<L extends string> {
  readonly counter: Counter<L>;
  readonly #slots: Array<{ labels: Partial<Record<L, string>>; n: number }> = [];

  constructor(config: CounterConfiguration<L>) {
    const slots = this.#slots;
    this.counter = new Counter({
      ...config,
      collect(this: Counter<L>) {
        this.reset();
        for (const s of slots) this.inc(s.labels, s.n);
      },
    });
  }

  /** A slot for one label set; keep it and add to `n`. */
  slot(labels: Partial<Record<L, string>>): { n: number } {
    const s = { labels, n: 0 };
    this.#slots.push(s);
    return s;
  }
}

/** The recorder's counts that metrics publish. */
export interface RecorderCounts {
  shadowSkipped: number;
  logWriteErrors: number;
  faults: number;
}

const NO_COUNTS: RecorderCounts = { shadowSkipped: 0, logWriteErrors: 0, faults: 0 };

interface RoleSlots {
  duration: { observe(v: number): void };
  score: { observe(v: number): void };
  decisionTrue: { n: number };
  decisionFalse: { n: number };
  errors: Map<string, { n: number }>;
}

export class Metrics {
  readonly registry = new Registry();
  #counts: () => RecorderCounts = () => NO_COUNTS;
  readonly #requestsCounter = new PlainCounter({ name: 'ccrouter_requests_total', help: 'Scored requests by route, group and served model', labelNames: ['route', 'group', 'served'] as const, registers: [this.registry] });
  readonly requests = this.#requestsCounter.counter;
  readonly upstreamDuration = new PlainHistogram('ccrouter_upstream_duration_seconds', 'Model call duration (calls made)', 'model', DURATION_BUCKETS, this.registry);
  readonly #errorsCounter = new PlainCounter({ name: 'ccrouter_upstream_errors_total', help: 'Model call errors by kind', labelNames: ['model', 'kind'] as const, registers: [this.registry] });
  readonly upstreamErrors = this.#errorsCounter.counter;
  readonly score = new PlainHistogram('ccrouter_score', 'Model scores', 'model', SCORE_BUCKETS, this.registry);
  readonly #decisionsCounter = new PlainCounter({ name: 'ccrouter_decisions_total', help: 'Model decisions', labelNames: ['model', 'decision'] as const, registers: [this.registry] });
  readonly decisions = this.#decisionsCounter.counter;
  readonly #agreementCounter = new PlainCounter({ name: 'ccrouter_agreement_total', help: 'Records where both decisions are known, by agreement', labelNames: ['agree'] as const, registers: [this.registry] });
  readonly agreement = this.#agreementCounter.counter;
  readonly shadowSkipped = this.#counted('ccrouter_shadow_skipped_total', 'Shadow calls skipped because shadowLimit calls were in flight', (c) => c.shadowSkipped);
  // With workers, the primary's value is the one in force: aggregated as `first`, the primary listed first.
  readonly trafficFraction = new Gauge({ name: 'ccrouter_traffic_fraction', help: 'Effective traffic fraction by group', labelNames: ['group'] as const, aggregator: 'first', registers: [this.registry] });
  readonly configReloads = new Counter({ name: 'ccrouter_config_reloads_total', help: 'Config reloads by result', labelNames: ['result'] as const, registers: [this.registry] });
  readonly guardrailTrips = new Counter({ name: 'ccrouter_guardrail_trips_total', help: 'Guardrail trips by rule', labelNames: ['rule'] as const, registers: [this.registry] });
  readonly logWriteErrors = this.#counted('ccrouter_log_write_errors_total', 'Failed log writes', (c) => c.logWriteErrors);
  readonly internalErrors = this.#counted('ccrouter_internal_errors_total', 'Faults of ccrouter itself caught on a request (answered 500, recorded)', (c) => c.faults);
  // One series at 1 naming what runs; as for the fractions, the primary's is the one in force.
  readonly info = new Gauge({ name: 'ccrouter_info', help: 'What is running: the effective config id and the models\' versions (always 1)', labelNames: ['config', 'champion_version', 'challenger_version'] as const, aggregator: 'first', registers: [this.registry] });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      for (const name of DROPPED_DEFAULTS) this.registry.removeSingleMetric(name);
    }
    // Every label value a counter can take is exported from start-up, at 0, so that rate() and
    // increase() see the first change (docs/operations.md, "Metrics"); routes follow the config.
    for (const result of ['loaded', 'rejected']) this.configReloads.inc({ result }, 0);
    for (const role of ['champion', 'challenger'] as const) {
      const slots = role === 'champion' ? this.#champion : this.#challenger;
      for (const kind of ERROR_KINDS) this.#errorSlot(slots, role, kind);
    }
  }

  /** The effective config in force: fractions, `ccrouter_info`, and a zero series for each new route. */
  setRunning(id: string, config: Config, routes: readonly string[]): void {
    this.setFractions(config.traffic.control, config.traffic.challenger);
    this.info.reset();
    this.info.set({ config: id, champion_version: config.models.champion.version, challenger_version: config.models.challenger.version }, 1);
    for (const route of routes) for (const [group, served] of GROUP_SERVED) this.#requestsSlot(route, group, served);
  }

  /** Where the recorder's counts are read at each scrape. */
  countFrom(counts: () => RecorderCounts): void {
    this.#counts = counts;
  }

  setFractions(control: number, challenger: number): void {
    this.trafficFraction.set({ group: 'control' }, control);
    this.trafficFraction.set({ group: 'challenger' }, challenger);
    this.trafficFraction.set({ group: 'champion' }, Math.max(0, 1 - control - challenger));
  }

  /** Everything a written pair record says, counted once (plain additions: published at scrape time). */
  observePair(r: PairRecord): void {
    this.#requestsSlot(r.route, r.group ?? 'none', r.served ?? 'none').n++;
    if (r.error) return;
    this.#observeOutcome(this.#champion, 'champion', r.champion);
    this.#observeOutcome(this.#challenger, 'challenger', r.challenger);
    if (typeof r.agree === 'number') this.#observeBatchAgreement(r.champion.decisions, r.challenger.decisions);
    else if (r.agree !== null) (r.agree ? this.#agreeTrue : this.#agreeFalse).n++;
  }

  /** A batch (docs/records.md#batches): agreement counted per instance. */
  #observeBatchAgreement(c: readonly boolean[] | null | undefined, h: readonly boolean[] | null | undefined): void {
    if (!c || !h || c.length !== h.length) return;
    for (let i = 0; i < c.length; i++) (c[i] === h[i] ? this.#agreeTrue : this.#agreeFalse).n++;
  }

  readonly #champion = this.#roleSlots('champion');
  readonly #challenger = this.#roleSlots('challenger');
  readonly #agreeTrue = this.#agreementCounter.slot({ agree: 'true' });
  readonly #agreeFalse = this.#agreementCounter.slot({ agree: 'false' });
  // route → group → served: no key string built per record.
  readonly #requestSlots = new Map<string, Map<string, Map<string, { n: number }>>>();

  #counted(name: string, help: string, pick: (c: RecorderCounts) => number): Counter {
    const read = () => pick(this.#counts());
    return new Counter({
      name,
      help,
      registers: [this.registry],
      collect(this: Counter) {
        this.reset();
        this.inc(read());
      },
    });
  }

  #requestsSlot(route: string, group: string, served: string): { n: number } {
    let byGroup = this.#requestSlots.get(route);
    if (!byGroup) this.#requestSlots.set(route, (byGroup = new Map()));
    let byServed = byGroup.get(group);
    if (!byServed) byGroup.set(group, (byServed = new Map()));
    let slot = byServed.get(served);
    if (!slot) byServed.set(served, (slot = this.#requestsCounter.slot({ route, group, served })));
    return slot;
  }

  #roleSlots(role: 'champion' | 'challenger'): RoleSlots {
    return {
      duration: this.upstreamDuration.child(role),
      score: this.score.child(role),
      decisionTrue: this.#decisionsCounter.slot({ model: role, decision: 'true' }),
      decisionFalse: this.#decisionsCounter.slot({ model: role, decision: 'false' }),
      errors: new Map(),
    };
  }

  #errorSlot(c: RoleSlots, role: 'champion' | 'challenger', kind: string): { n: number } {
    let slot = c.errors.get(kind);
    if (!slot) c.errors.set(kind, (slot = this.#errorsCounter.slot({ model: role, kind })));
    return slot;
  }

  #observeOutcome(c: RoleSlots, role: 'champion' | 'challenger', o: ModelOutcome): void {
    if (o.error?.kind === 'skipped') return;
    if (o.latencyMs !== null) c.duration.observe(o.latencyMs / 1000);
    if (o.error) this.#errorSlot(c, role, o.error.kind).n++;
    if (o.score !== null) c.score.observe(o.score);
    if (o.decision !== null) (o.decision ? c.decisionTrue : c.decisionFalse).n++;
    // A batch: each instance's score and decision (docs/records.md#batches).
    if (o.scores) for (const s of o.scores) c.score.observe(s);
    if (o.decisions) for (const d of o.decisions) (d ? c.decisionTrue : c.decisionFalse).n++;
  }
}
