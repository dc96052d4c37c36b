/**
 * Prometheus metrics (SPEC 7). Label values are bounded: roles, groups, kinds and configured
 * routes only — never a request id or a unit key.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ModelOutcome, PairRecord } from './records/types.js';

interface RoleChildren {
  role: 'champion' | 'challenger';
  duration: { observe(v: number): void };
  score: { observe(v: number): void };
  decisionTrue: { inc(): void };
  decisionFalse: { inc(): void };
}

const SCORE_BUCKETS = Array.from({ length: 20 }, (_, i) => Math.round((i + 1) * 0.05 * 100) / 100);

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'ccrouter_requests_total', help: 'Scored requests by route, group and served model', labelNames: ['route', 'group', 'served'] as const, registers: [this.registry] });
  readonly upstreamDuration = new Histogram({ name: 'ccrouter_upstream_duration_seconds', help: 'Model call duration (calls made)', labelNames: ['model'] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });
  readonly upstreamErrors = new Counter({ name: 'ccrouter_upstream_errors_total', help: 'Model call errors by kind', labelNames: ['model', 'kind'] as const, registers: [this.registry] });
  readonly score = new Histogram({ name: 'ccrouter_score', help: 'Model scores', labelNames: ['model'] as const, buckets: SCORE_BUCKETS, registers: [this.registry] });
  readonly decisions = new Counter({ name: 'ccrouter_decisions_total', help: 'Model decisions', labelNames: ['model', 'decision'] as const, registers: [this.registry] });
  readonly agreement = new Counter({ name: 'ccrouter_agreement_total', help: 'Records where both decisions are known, by agreement', labelNames: ['agree'] as const, registers: [this.registry] });
  readonly shadowSkipped = new Counter({ name: 'ccrouter_shadow_skipped_total', help: 'Shadow calls skipped because shadowLimit calls were in flight', registers: [this.registry] });
  // With workers, the primary's value is the one in force: aggregated as `first`, the primary listed first.
  readonly trafficFraction = new Gauge({ name: 'ccrouter_traffic_fraction', help: 'Effective traffic fraction by group', labelNames: ['group'] as const, aggregator: 'first', registers: [this.registry] });
  readonly configReloads = new Counter({ name: 'ccrouter_config_reloads_total', help: 'Config reloads by result', labelNames: ['result'] as const, registers: [this.registry] });
  readonly guardrailTrips = new Counter({ name: 'ccrouter_guardrail_trips_total', help: 'Guardrail trips by rule', labelNames: ['rule'] as const, registers: [this.registry] });
  readonly logWriteErrors = new Counter({ name: 'ccrouter_log_write_errors_total', help: 'Failed log writes', registers: [this.registry] });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  setFractions(control: number, challenger: number): void {
    this.trafficFraction.set({ group: 'control' }, control);
    this.trafficFraction.set({ group: 'challenger' }, challenger);
    this.trafficFraction.set({ group: 'champion' }, Math.max(0, 1 - control - challenger));
  }

  /** Everything a written pair record says, counted once. */
  observePair(r: PairRecord): void {
    this.#requestsChild(r.route, r.group ?? 'none', r.served ?? 'none').inc();
    if (r.error) return;
    this.#observeOutcome(this.#champion, r.champion);
    this.#observeOutcome(this.#challenger, r.challenger);
    if (r.agree !== null) (r.agree ? this.#agreeTrue : this.#agreeFalse).inc();
  }

  // Label children resolved once: prom-client hashes the label set on every labelled call.
  readonly #champion = this.#roleChildren('champion');
  readonly #challenger = this.#roleChildren('challenger');
  readonly #agreeTrue = this.agreement.labels('true');
  readonly #agreeFalse = this.agreement.labels('false');
  readonly #requestChildren = new Map<string, { inc(): void }>();

  #requestsChild(route: string, group: string, served: string): { inc(): void } {
    const key = JSON.stringify([route, group, served]);
    let child = this.#requestChildren.get(key);
    if (!child) {
      child = this.requests.labels(route, group, served);
      this.#requestChildren.set(key, child);
    }
    return child;
  }

  #roleChildren(role: 'champion' | 'challenger'): RoleChildren {
    return {
      role,
      duration: this.upstreamDuration.labels(role),
      score: this.score.labels(role),
      decisionTrue: this.decisions.labels(role, 'true'),
      decisionFalse: this.decisions.labels(role, 'false'),
    };
  }

  #observeOutcome(c: RoleChildren, o: ModelOutcome): void {
    if (o.error?.kind === 'skipped') return;
    if (o.latencyMs !== null) c.duration.observe(o.latencyMs / 1000);
    if (o.error) this.upstreamErrors.inc({ model: c.role, kind: o.error.kind });
    if (o.score !== null) c.score.observe(o.score);
    if (o.decision !== null) (o.decision ? c.decisionTrue : c.decisionFalse).inc();
  }
}
