/**
 * A second, deliberately plain implementation of SPEC 8 definitions 1–10 over in-memory records,
 * using the pure statistics functions. The DuckDB report must agree with it on any input.
 */
import {
  auc,
  compareProportions,
  confusion,
  mcnemar,
  mean,
  metricsFromConfusion,
  pearson,
  psi,
  quantiles,
  spearman,
  srmTest,
  wilson,
  type ModelMetrics,
} from '../../src/stats/index.js';
import type { GroupName, ModelSummary, Report, Role, Segment } from '../../src/report/types.js';
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
  const labelled = recs.map((p) => ({ p, y: labelFor(p) })).filter((x): x is { p: Obj; y: 0 | 1 } => x.y !== null);

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
    return metricsFromConfusion(c, auc(withScore.map((x) => x.p[role].score), withScore.map((x) => x.y)));
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

  // SRM (definition 8).
  const configs = new Map<string, { n: number; t: number; g: Record<GroupName, number> }>();
  for (const p of recs) {
    if (typeof p.config !== 'string') continue;
    const e = configs.get(p.config) ?? { n: 0, t: -Infinity, g: { control: 0, champion: 0, challenger: 0 } };
    e.n++;
    e.t = Math.max(e.t, finTime(p.time) ?? -Infinity);
    if (GROUPS.includes(p.group)) e.g[p.group as GroupName]++;
    configs.set(p.config, e);
  }
  const top = [...configs.entries()].sort((a, b) => b[1].n - a[1].n || b[1].t - a[1].t || (a[0] < b[0] ? 1 : -1))[0];
  let srm: Report['traffic']['srm'] = { config: top?.[0] ?? null, chi2: null, pValue: null, flag: null };
  if (top) {
    const ev = input.events.find((e) => e.config === top[0] && (e.msg === undefined || e.msg === 'event') &&
      fraction(e.traffic?.control) !== null && fraction(e.traffic?.challenger) !== null);
    if (ev) {
      const rest = 1 - ev.traffic.control - ev.traffic.challenger;
      const shares = { control: ev.traffic.control, champion: Math.abs(rest) < 1e-12 ? 0 : rest, challenger: ev.traffic.challenger };
      srm = { config: top[0], ...srmTest(GROUPS.map((g) => top[1].g[g]), GROUPS.map((g) => shares[g])) };
    }
  }

  const gcount = (g: GroupName) => recs.filter((p) => p.group === g).length;
  const inGroups = GROUPS.reduce((s, g) => s + gcount(g), 0);

  // Paired (definition 6).
  const paired = labelled.filter((l) => typeof l.p.champion?.decision === 'boolean' && typeof l.p.challenger?.decision === 'boolean');
  const b = paired.filter((l) => l.p.champion.decision === (l.y === 1) && l.p.challenger.decision !== (l.y === 1)).length;
  const c = paired.filter((l) => l.p.challenger.decision === (l.y === 1) && l.p.champion.decision !== (l.y === 1)).length;

  // Impact (definition 7).
  const impactOf = (g: GroupName) => {
    const inG = recs.filter((p) => p.group === g);
    const served = inG.map((p) => (g === 'challenger' ? p.challenger : p.champion)?.decision).filter((d) => typeof d === 'boolean');
    const lab = labelled.filter((l) => l.p.group === g);
    const pos = lab.filter((l) => l.y === 1).length;
    return {
      n: inG.length,
      labeled: lab.length,
      positiveRate: lab.length ? pos / lab.length : null,
      ci: wilson(pos, lab.length),
      decisionRate: served.length ? served.filter((d) => d === true).length / served.length : null,
      pos,
    };
  };
  const imp = { control: impactOf('control'), champion: impactOf('champion'), challenger: impactOf('challenger') };
  const strip = ({ pos: _pos, ...rest }: ReturnType<typeof impactOf>) => rest;

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
    },
    traffic: {
      groups: Object.fromEntries(GROUPS.map((g) => [g, { n: gcount(g), share: inGroups ? gcount(g) / inGroups : null }])) as Report['traffic']['groups'],
      shadowCoverage: recs.length ? recs.filter((p) => called(p.champion) && called(p.challenger)).length / recs.length : null,
      fallbacks: recs.filter((p) => p.fallback === true).length,
      srm,
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
      champion: metrics(labelled, 'champion'),
      challenger: metrics(labelled, 'challenger'),
      control: {
        champion: metrics(labelled.filter((l) => l.p.group === 'control'), 'champion'),
        challenger: metrics(labelled.filter((l) => l.p.group === 'control'), 'challenger'),
      },
      paired: { n: paired.length, championOnlyCorrect: b, challengerOnlyCorrect: c, pValue: mcnemar(b, c).pValue },
      outcomes: { accepted, rejected: rejectedOutcomes },
    },
    impact: {
      control: strip(imp.control),
      champion: strip(imp.champion),
      challenger: strip(imp.challenger),
      challengerVsChampion: compareProportions(imp.challenger.pos, imp.challenger.labeled, imp.champion.pos, imp.champion.labeled),
    },
    timeline: referenceTimeline(recs, labelFor, input.bucketMs),
    verdict: 'insufficient_data',
  };
  report.verdict = verdictOf(report.labels.paired);

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
  // Key order as the report writes it.
  const { verdict, ...rest } = report;
  return { ...rest, verdict } as Report;
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
