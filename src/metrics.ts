/**
 * Prometheus metrics (SPEC 7). Label values are bounded: roles, groups, kinds and configured
 * routes only — never a request id or a unit key.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PairRecord } from './records/types.js';

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
  readonly trafficFraction = new Gauge({ name: 'ccrouter_traffic_fraction', help: 'Effective traffic fraction by group', labelNames: ['group'] as const, registers: [this.registry] });
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
    this.requests.inc({ route: r.route, group: r.group ?? 'none', served: r.served ?? 'none' });
    if (r.error) return;
    for (const role of ['champion', 'challenger'] as const) {
      const o = r[role];
      if (o.error?.kind === 'skipped') continue;
      if (o.latencyMs !== null) this.upstreamDuration.observe({ model: role }, o.latencyMs / 1000);
      if (o.error) this.upstreamErrors.inc({ model: role, kind: o.error.kind });
      if (o.score !== null) this.score.observe({ model: role }, o.score);
      if (o.decision !== null) this.decisions.inc({ model: role, decision: o.decision ? 'true' : 'false' });
    }
    if (r.agree !== null) this.agreement.inc({ agree: r.agree ? 'true' : 'false' });
  }
}
