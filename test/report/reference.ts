/**
 * A second, deliberately plain implementation of the report's definitions (docs/report.md) over
 * in-memory records, using the pure statistics functions. The DuckDB report must agree with it on
 * any input.
 */
import {
  auc,
  clusterMoments,
  clusteredRatio,
  compareRatios,
  confusion,
  delongPaired,
  durkalski,
  mcnemar,
  mean,
  metricsFromConfusion,
  pearson,
  psi,
  quantiles,
  spearman,
  sequentialPValue,
  srmTest,
  valueMetrics,
  type ModelMetrics,
} from '../../src/stats/index.js';
import type { ConfigSrm, FlagCode, GroupName, MatchedModel, ModelSummary, Report, Role, Segment, VerdictMetric } from '../../src/report/types.js';
import { verdictOf } from '../../src/report/verdict.js';
import { referenceTimeline } from './timeline-reference.js';

 
type Obj = Record<string, any>;

export interface ReferenceInput {
  pairs: Obj[];
  events: Obj[];
  /** Outcome files in reading order (DIR/outcomes.jsonl first), each a list of parsed lines. */
  outcomeFiles: Obj[][];
  since?: number;
  until?: number;
  segment?: string;
  malformedLines?: number;
  value?: string;
  mature?: number;
  verdict?: VerdictMetric;
  sequential?: boolean;
  bucketMs?: number;
}

const ROLES: Role[] = ['champion', 'challenger'];
const GROUPS: GroupName[] = ['control', 'champion', 'challenger'];
// Numbers beyond these magnitudes are read as absent and counted in window.outOfRange.
const MAX_MAGNITUDE = 1e15;
const MAX_TIME = 8.64e15;
const within = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= max;
const fin = (v: unknown): number | null => (within(v, MAX_MAGNITUDE) ? v : null);
const finTime = (v: unknown): number | null => (within(v, MAX_TIME) ? v : null);
const fraction = (v: unknown): number | null => (typeof v === 'number' && v >= 0 && v <= 1 ? v : null);
const outOfRange = (v: unknown, max: number): number => (typeof v === 'number' && !within(v, max) ? 1 : 0);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);
const called = (o: Obj | null | undefined) => o != null && o.error?.kind !== 'skipped';

function labelOf(v: unknown): 0 | 1 | null {
  if (v === true || v === 1) return 1;
  if (v === false || v === 0) return 0;
  return null;
}

export function referenceReport(input: ReferenceInput): Report {
  const isPair = (p: Obj) => p.msg === 'pair' || (p.msg === undefined && (p.champion != null || p.challenger != null));
  const inWindow = input.pairs.filter((p) => {
    if (!isPair(p)) return false;
    if (input.since !== undefined && !(finTime(p.time) !== null && p.time >= input.since)) return false;
    if (input.until !== undefined && !(finTime(p.time) !== null && p.time < input.until)) return false;
    return true;
  });
  const rejected = inWindow.filter((p) => p.error != null).length;
  const recs = inWindow.filter((p) => p.error == null);
  const times = recs.map((p) => finTime(p.time)).filter((t): t is number => t !== null);

  // Labels (definition 5).
  const byRid = new Map<string, 0 | 1>();
  const byUnit = new Map<string, 0 | 1>();
  let accepted = 0;
  let rejectedOutcomes = 0;
  for (const file of input.outcomeFiles) {
    for (const o of file) {
      if (!(o.msg === undefined || o.msg === 'outcome')) continue;
      const y = labelOf(o.label);
      const rid = str(o.requestId);
      const unit = str(o.unit);
      if (y === null || (rid === null && unit === null)) {
        rejectedOutcomes++;
        continue;
      }
      accepted++;
      if (rid !== null) byRid.set(rid, y);
      else byUnit.set(unit!, y);
    }
  }
  const labelFor = (p: Obj): 0 | 1 | null => {
    const rid = str(p.requestId);
    if (rid !== null && byRid.has(rid)) return byRid.get(rid)!;
    const unit = str(p.unit);
    if (unit !== null && byUnit.has(unit)) return byUnit.get(unit)!;
    return null;
  };
  const to = times.length ? Math.max(...times) : null;
  const matureBefore = input.mature === undefined || to === null ? null : to - input.mature;
  const counts = (p: Obj) => input.mature === undefined || (matureBefore !== null && finTime(p.time) !== null && p.time < matureBefore);
  const allLabelled = recs.map((p) => ({ p, y: labelFor(p) })).filter((x): x is { p: Obj; y: 0 | 1 } => x.y !== null);
  const labelled = allLabelled.filter((l) => counts(l.p));
  const valued = input.value !== undefined;
  const valueOf = (p: Obj): number => {
    const v = p.fields?.[input.value!];
    return valued && within(v, MAX_MAGNITUDE) && v >= 0 ? v : 0;
  };
  // A record's cluster: its unit when assigned by key, else itself.
  const clusterOf = (p: Obj): unknown => (p.assigned === 'key' && str(p.unit) !== null ? `u:${str(p.unit)}` : p);

  const metrics = (rows: { p: Obj; y: 0 | 1 }[], role: Role): ModelMetrics => {
    const withScore = rows.filter((x) => fin(x.p[role]?.score) !== null);
    const c = confusion([], []);
    c.n = withScore.length;
    for (const x of withScore) {
      if (x.y === 1) c.positives++;
      const d = x.p[role].decision;
      if (d === true) {
        if (x.y === 1) c.tp++;
        else c.fp++;
      } else if (d === false) {
        if (x.y === 1) c.fn++;
        else c.tn++;
      }
    }
    const m = metricsFromConfusion(c, auc(withScore.map((x) => x.p[role].score), withScore.map((x) => x.y)));
    if (valued) {
      const v = (d: boolean, y: number) => withScore.filter((x) => x.p[role].decision === d && x.y === y).reduce((t, x) => t + valueOf(x.p), 0);
      m.value = valueMetrics({ tp: v(true, 1), fp: v(true, 0), fn: v(false, 1), tn: v(false, 0) });
    }
    return m;
  };

  // Models (definition 2).
  const models = {} as Record<Role, ModelSummary>;
  for (const role of ROLES) {
    const outs = recs.map((p) => ({ o: p[role] as Obj | null | undefined, t: finTime(p.time) }));
    const calls = outs.filter((x) => called(x.o));
    const errs = calls.filter((x) => x.o!.error != null);
    const byKind: Record<string, number> = Object.create(null);
    for (const e of errs) byKind[e.o!.error.kind ?? 'unknown'] = (byKind[e.o!.error.kind ?? 'unknown'] ?? 0) + 1;
    const lat = calls.map((x) => fin(x.o!.latencyMs)).filter((v): v is number => v !== null);
    const scores = outs.map((x) => fin(x.o?.score)).filter((v): v is number => v !== null);
    const decs = outs.map((x) => x.o?.decision).filter((d) => typeof d === 'boolean');
    const versions = new Map<string, { n: number; t: number }>();
    for (const x of outs) {
      const v = x.o?.version;
      if (typeof v !== 'string') continue;
      const e = versions.get(v) ?? { n: 0, t: -Infinity };
      versions.set(v, { n: e.n + 1, t: Math.max(e.t, x.t ?? -Infinity) });
    }
    const version = [...versions.entries()].sort((a, b) => b[1].n - a[1].n || b[1].t - a[1].t)[0]?.[0] ?? null;
    const lq = quantiles(lat, [0.5, 0.95, 0.99]);
    const sq = quantiles(scores, [0.1, 0.5, 0.9, 0.95, 0.99]);
    const norm = outs.map((x) => fin(x.o?.normalized)).filter((v): v is number => v !== null);
    const nq = quantiles(norm, [0.1, 0.5, 0.9, 0.95, 0.99]);
    models[role] = {
      version,
      calls: calls.length,
      errors: { rate: calls.length ? errs.length / calls.length : null, byKind },
      latencyMs: { p50: lq[0]!, p95: lq[1]!, p99: lq[2]!, mean: mean(lat) },
      score: { mean: mean(scores), p10: sq[0]!, p50: sq[1]!, p90: sq[2]!, p95: sq[3]!, p99: sq[4]! },
      decisionRate: decs.length ? decs.filter((d) => d === true).length / decs.length : null,
      ...(norm.length ? { normalized: { n: norm.length, mean: mean(norm), p10: nq[0]!, p50: nq[1]!, p90: nq[2]!, p95: nq[3]!, p99: nq[4]! } } : {}),
    };
  }

  // Agreement and drift (definitions 3, 4).
  const both = recs.filter((p) => fin(p.champion?.score) !== null && fin(p.challenger?.score) !== null);
  const x = both.map((p) => p.champion.score as number);
  const y = both.map((p) => p.challenger.score as number);
  const bothDec = both.filter((p) => typeof p.champion.decision === 'boolean' && typeof p.challenger.decision === 'boolean');

  // SRM per config (definitions 8, 15): records per group, clusters for the test.
  const events = (config: string) => input.events.find((e) => e.config === config && (e.msg === undefined || e.msg === 'event') &&
    fraction(e.traffic?.control) !== null && fraction(e.traffic?.challenger) !== null);
  const configIds = [...new Set(recs.map((p) => p.config).filter((c): c is string => typeof c === 'string'))];
  const byConfig: ConfigSrm[] = configIds.map((config) => {
    const mine = recs.filter((p) => p.config === config);
    const ts = mine.map((p) => finTime(p.time)).filter((t): t is number => t !== null);
    const ev = events(config);
    const expected = ev ? { control: ev.traffic.control as number, challenger: ev.traffic.challenger as number } : null;
    const groups = Object.fromEntries(GROUPS.map((g) => [g, mine.filter((p) => p.group === g).length])) as Record<GroupName, number>;
    const clusters = GROUPS.map((g) => new Set(mine.filter((p) => p.group === g).map(clusterOf)).size);
    let test: { chi2: number | null; pValue: number | null; flag: boolean | null } = { chi2: null, pValue: null, flag: null };
    if (expected) {
      const rest = 1 - expected.control - expected.challenger;
      const shares = { control: expected.control, champion: Math.abs(rest) < 1e-12 ? 0 : rest, challenger: expected.challenger };
      test = srmTest(clusters, GROUPS.map((g) => shares[g]));
    }
    return { config, records: mine.length, from: ts.length ? Math.min(...ts) : null, to: ts.length ? Math.max(...ts) : null, expected, groups, ...test };
  }).sort((a, b) => (a.from ?? Infinity) - (b.from ?? Infinity) || (a.config < b.config ? -1 : 1));
  const top = [...byConfig].sort((a, b) => b.records - a.records || (b.to ?? -Infinity) - (a.to ?? -Infinity) || (a.config < b.config ? 1 : -1))[0];
  const srm: Report['traffic']['srm'] = top
    ? { config: top.config, chi2: top.chi2, pValue: top.pValue, flag: top.flag }
    : { config: null, chi2: null, pValue: null, flag: null };

  const gcount = (g: GroupName) => recs.filter((p) => p.group === g).length;
  const inGroups = GROUPS.reduce((s, g) => s + gcount(g), 0);

  // Paired (definition 6).
  const paired = labelled.filter((l) => typeof l.p.champion?.decision === 'boolean' && typeof l.p.challenger?.decision === 'boolean');
  const b = paired.filter((l) => l.p.champion.decision === (l.y === 1) && l.p.challenger.decision !== (l.y === 1)).length;
  const c = paired.filter((l) => l.p.challenger.decision === (l.y === 1) && l.p.champion.decision !== (l.y === 1)).length;
  const step = (l: { p: Obj; y: number }) => Number(l.p.challenger.decision === (l.y === 1)) - Number(l.p.champion.decision === (l.y === 1));
  const dByCluster = new Map<unknown, number>();
  for (const l of paired) dByCluster.set(clusterOf(l.p), (dByCluster.get(clusterOf(l.p)) ?? 0) + step(l));
  const multi = dByCluster.size < paired.length;
  // Definition 13: in (time, requestId) order; ties by outcome (b before c before neither is irrelevant: the order of equal keys).
  const key = (l: { p: Obj; y: number }) => [finTime(l.p.time) ?? Infinity, str(l.p.requestId) ?? '\uffff'] as const;
  const ordered = [...paired].sort((u, v) => {
    const [tu, ru] = key(u);
    const [tv, rv] = key(v);
    return tu - tv || (ru < rv ? -1 : ru > rv ? 1 : 0) || stepRank(u) - stepRank(v);
  });
  function stepRank(l: { p: Obj; y: number }): number {
    const s = step(l);
    // The report orders ties by (b, c) as integers: (0,0), (0,1), (1,0).
    return s === 0 ? 0 : s > 0 ? 1 : 2;
  }
  const withScores = paired.filter((l) => fin(l.p.champion.score) !== null && fin(l.p.challenger.score) !== null);
  const aucTest = delongPaired(withScores.map((l) => l.p.champion.score), withScores.map((l) => l.p.challenger.score), withScores.map((l) => l.y));
  // Definition 14.
  const noneP: MatchedModel = { threshold: null, decisionRate: null, precision: null, recall: null, valueRecall: null };
  let matched: Report['labels']['matched'] = { rate: null, champion: noneP, challenger: noneP, pValue: null };
  let matchedBC = { b: 0, c: 0 };
  if (withScores.length > 0) {
    const rate = withScores.filter((l) => l.p.champion.decision === true).length / withScores.length;
    const model = (role: Role) => {
      const threshold = quantiles(withScores.map((l) => l.p[role].score as number), [1 - rate])[0]!;
      const pred = withScores.map((l) => (l.p[role].score as number) >= threshold);
      const tp = withScores.filter((l, i) => pred[i] && l.y === 1).length;
      const d = pred.filter(Boolean).length;
      const pos = withScores.filter((l) => l.y === 1).length;
      const vpos = withScores.filter((l) => l.y === 1).reduce((t, l) => t + valueOf(l.p), 0);
      const vtp = withScores.filter((l, i) => pred[i] && l.y === 1).reduce((t, l) => t + valueOf(l.p), 0);
      return { pred, p: { threshold, decisionRate: d / withScores.length, precision: d ? tp / d : null, recall: pos ? tp / pos : null,
        valueRecall: valued && vpos > 0 ? vtp / vpos : null } };
    };
    const mc = model('champion');
    const mh = model('challenger');
    const right = (pred: boolean, y: number) => pred === (y === 1);
    const mb = withScores.filter((l, i) => right(mc.pred[i]!, l.y) && !right(mh.pred[i]!, l.y)).length;
    const mcc = withScores.filter((l, i) => right(mh.pred[i]!, l.y) && !right(mc.pred[i]!, l.y)).length;
    matchedBC = { b: mb, c: mcc };
    matched = { rate, champion: mc.p, challenger: mh.p, pValue: mcnemar(mb, mcc).pValue };
  }
  // Definition 12: byDay over every record of the window.
  const days = new Map<number, { records: number; labelled: number }>();
  for (const p of recs) {
    const t = finTime(p.time);
    if (t === null) continue;
    const d = Math.floor(t / 86_400_000);
    const e = days.get(d) ?? { records: 0, labelled: 0 };
    e.records++;
    if (labelFor(p) !== null) e.labelled++;
    days.set(d, e);
  }
  const byDay = [...days.entries()].sort((u, v) => u[0] - v[0])
    .map(([d, e]) => ({ day: new Date(d * 86_400_000).toISOString().slice(0, 10), ...e }));
  const eligible = recs.filter(counts).length;

  // Impact (definitions 7, 11): cluster sums within the group.
  const impactOf = (g: GroupName) => {
    const inG = recs.filter((p) => p.group === g);
    const served = inG.map((p) => (g === 'challenger' ? p.challenger : p.champion)?.decision).filter((d) => typeof d === 'boolean');
    const lab = labelled.filter((l) => l.p.group === g);
    const per = new Map<unknown, { s: number; sv: number; n: number }>();
    for (const l of lab) {
      const e = per.get(clusterOf(l.p)) ?? { s: 0, sv: 0, n: 0 };
      e.s += l.y;
      e.sv += valueOf(l.p) * l.y;
      e.n++;
      per.set(clusterOf(l.p), e);
    }
    const cl = [...per.values()];
    const rate = clusteredRatio(clusterMoments(cl.map((x) => x.s), cl.map((x) => x.n)));
    const val = clusteredRatio(clusterMoments(cl.map((x) => x.sv), cl.map((x) => x.n)));
    return {
      out: {
        n: inG.length,
        labeled: lab.length,
        positiveRate: rate.ratio,
        ci: rate.ci,
        decisionRate: served.length ? served.filter((d) => d === true).length / served.length : null,
        ...(valued ? { value: { total: lab.reduce((t, l) => t + valueOf(l.p), 0), positive: cl.reduce((t, x) => t + x.sv, 0), perRecord: val.ratio } } : {}),
      },
      rate,
      val,
    };
  };
  const imp = { control: impactOf('control'), champion: impactOf('champion'), challenger: impactOf('challenger') };

  const report: Report = {
    window: {
      from: times.length ? Math.min(...times) : null,
      to: times.length ? Math.max(...times) : null,
      records: recs.length,
      rejected,
      malformedLines: input.malformedLines ?? 0,
      outOfRange: recs.reduce((n, p) => n + outOfRange(p.time, MAX_TIME) +
        ROLES.reduce((m, role) => m + outOfRange(p[role]?.latencyMs, MAX_MAGNITUDE) + outOfRange(p[role]?.score, MAX_MAGNITUDE) +
          outOfRange(p[role]?.normalized, MAX_MAGNITUDE), 0), 0),
      // The reference reads JSONL it was handed: nothing to say about manifests or Parquet.
      notices: [],
    },
    traffic: {
      groups: Object.fromEntries(GROUPS.map((g) => [g, { n: gcount(g), share: inGroups ? gcount(g) / inGroups : null }])) as Report['traffic']['groups'],
      shadowCoverage: recs.length ? recs.filter((p) => called(p.champion) && called(p.challenger)).length / recs.length : null,
      fallbacks: recs.filter((p) => p.fallback === true).length,
      srm,
      byConfig,
    },
    models,
    agreement: {
      n: both.length,
      decisionAgreement: bothDec.length ? bothDec.filter((p) => p.champion.decision === p.challenger.decision).length / bothDec.length : null,
      pearson: pearson(x, y),
      spearman: spearman(x, y),
      meanAbsDelta: mean(both.map((p) => Math.abs(p.challenger.score - p.champion.score))),
    },
    drift: { psi: psi(x, y) },
    labels: {
      n: labelled.length,
      eligible,
      coverage: eligible ? labelled.length / eligible : null,
      matureBefore,
      champion: metrics(labelled, 'champion'),
      challenger: metrics(labelled, 'challenger'),
      control: {
        champion: metrics(labelled.filter((l) => l.p.group === 'control'), 'champion'),
        challenger: metrics(labelled.filter((l) => l.p.group === 'control'), 'challenger'),
      },
      paired: {
        n: paired.length, championOnlyCorrect: b, challengerOnlyCorrect: c, pValue: mcnemar(b, c).pValue,
        clusteredPValue: durkalski([...dByCluster.values()]), sequentialPValue: sequentialPValue(ordered.map(step)),
      },
      aucTest,
      matched,
      byDay,
      outcomes: { accepted, rejected: rejectedOutcomes },
    },
    impact: {
      control: imp.control.out,
      champion: imp.champion.out,
      challenger: imp.challenger.out,
      challengerVsChampion: {
        ...compareRatios(imp.challenger.rate, imp.champion.rate),
        ...(valued ? { value: compareRatios(imp.challenger.val, imp.champion.val) } : {}),
      },
    },
    timeline: referenceTimeline(recs, labelFor, input.bucketMs),
    verdict: 'insufficient_data',
    flags: [],
  };
  report.verdict = verdictOf(report.labels, {
    ...(input.verdict ? { metric: input.verdict } : {}),
    sequential: input.sequential === true,
    clustered: multi,
    matched: { championOnlyCorrect: matchedBC.b, challengerOnlyCorrect: matchedBC.c },
  });

  const calRows = (role: Role) => labelled.filter((l) => fin(l.p[role]?.normalized) !== null);
  if (ROLES.some((role) => calRows(role).length > 0)) {
    const at = (role: Role) => {
      const rows = calRows(role);
      const decs = rows.filter((l) => typeof l.p[role].decision === 'boolean');
      const tp = rows.filter((l) => l.p[role].decision === true && l.y === 1).length;
      const fp = rows.filter((l) => l.p[role].decision === true && l.y === 0).length;
      const positives = rows.filter((l) => l.y === 1).length;
      return {
        n: rows.length,
        positives,
        decisionRate: decs.length ? decs.filter((l) => l.p[role].decision === true).length / decs.length : null,
        precision: tp + fp ? tp / (tp + fp) : null,
        recall: positives ? tp / positives : null,
      };
    };
    report.labels.atThreshold = { champion: at('champion'), challenger: at('challenger') };
  }

  if (input.segment !== undefined) {
    const key = (p: Obj): string => {
      const v = p.fields?.[input.segment!];
      if (v === undefined || v === null) return 'null';
      return typeof v === 'string' ? v : JSON.stringify(v);
    };
    const segs = new Map<string, Obj[]>();
    for (const p of recs) segs.set(key(p), [...(segs.get(key(p)) ?? []), p]);
    const segments: Record<string, Segment> = Object.create(null);
    for (const [k, ps] of [...segs.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1))) {
      const bd = ps.filter((p) => fin(p.champion?.score) !== null && fin(p.challenger?.score) !== null &&
        typeof p.champion.decision === 'boolean' && typeof p.challenger.decision === 'boolean');
      const lab = labelled.filter((l) => key(l.p) === k);
      segments[k] = {
        n: ps.length,
        agreement: bd.length ? bd.filter((p) => p.champion.decision === p.challenger.decision).length / bd.length : null,
        champion: metrics(lab, 'champion'),
        challenger: metrics(lab, 'challenger'),
      };
    }
    report.segments = segments;
  }
  report.flags = referenceFlags(report);
  // Key order as the report writes it.
  const { verdict, flags, ...rest } = report;
  return { ...rest, verdict, flags } as Report;
}

/** The flags' codes, in the order the report lists them, from their definitions. */
function referenceFlags(r: Report): FlagCode[] {
  const out: FlagCode[] = [];
  if (r.traffic.srm.flag === true) out.push('srm');
  if (r.traffic.byConfig.some((c) => c.flag === true)) out.push('srm_config');
  if (r.labels.coverage !== null && r.labels.coverage < 0.5) out.push('low_coverage');
  const ce = r.models.champion.errors.rate;
  const he = r.models.challenger.errors.rate;
  if (ce !== null && he !== null && he > ce) out.push('challenger_error_rate');
  if (r.traffic.shadowCoverage !== null && r.traffic.shadowCoverage < 0.95) out.push('low_shadow_coverage');
  if (r.window.outOfRange > 0) out.push('out_of_range_values');
  if (r.labels.paired.n < 100) out.push('insufficient_labels');
  return out;
}

/** Deep equality with numbers compared to a relative tolerance; returns the first difference. */
export function diff(actual: unknown, expected: unknown, tol = 1e-9, path = '$'): string | null {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const err = Math.abs(actual - expected) / Math.max(1, Math.abs(expected));
    return err <= tol ? null : `${path}: ${actual} != ${expected}`;
  }
  if (expected === null || typeof expected !== 'object') {
    return Object.is(actual, expected) ? null : `${path}: ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`;
  }
  if (actual === null || typeof actual !== 'object') return `${path}: ${JSON.stringify(actual)} != object`;
  // Key order is presentation, not content.
  const ak = Object.keys(actual as object).sort();
  const ek = Object.keys(expected as object).sort();
  if (ak.join() !== ek.join()) return `${path}: keys [${ak}] != [${ek}]`;
  for (const k of ek) {
    const d = diff((actual as Obj)[k], (expected as Obj)[k], tol, `${path}.${k}`);
    if (d) return d;
  }
  return null;
}
