/** The report object (docs/report.md, "Sections"): plain JSON, null wherever a value is undefined. */
import type { ModelMetrics } from '../stats/classification.js';

export type { ModelMetrics } from '../stats/classification.js';
export type Role = 'champion' | 'challenger';
export type GroupName = 'control' | 'champion' | 'challenger';
export type Verdict = 'challenger_better' | 'champion_better' | 'no_significant_difference' | 'insufficient_data';

export const ROLES: readonly Role[] = ['champion', 'challenger'];
export const GROUPS: readonly GroupName[] = ['control', 'champion', 'challenger'];

export interface ReportWindow {
  /** Epoch ms of the first and last record used. */
  from: number | null;
  to: number | null;
  records: number;
  /** Pair records with a top-level `error` (left out of every other figure). */
  rejected: number;
  /** Non-blank lines that are not a JSON object, over every file read. */
  malformedLines: number;
  /**
   * Numbers of the window's records read as absent because they are not finite or lie beyond the
   * plausible range: a score, normalized score or latency beyond ±1e15, a time beyond a Date's range.
   */
  outOfRange: number;
  /**
   * What the report must say about its input, in words: a manifest that disagrees with the files (the
   * JSONL read instead, or records missing), a Parquet file skipped (docs/report.md, "window").
   */
  notices: string[];
}

export interface Srm {
  config: string | null;
  chi2: number | null;
  pValue: number | null;
  flag: boolean | null;
}

/** The sample-ratio check of one config id over its own records (docs/report.md, "SRM per config"). */
export interface ConfigSrm {
  config: string;
  records: number;
  from: number | null;
  to: number | null;
  /** From the event that announced the config; null when none did. */
  expected: { control: number; challenger: number } | null;
  /** Records per group. */
  groups: Record<GroupName, number>;
  /** Over clusters per group (docs/report.md, "Customers, not requests"). */
  chi2: number | null;
  pValue: number | null;
  flag: boolean | null;
}

export interface Traffic {
  groups: Record<GroupName, { n: number; share: number | null }>;
  shadowCoverage: number | null;
  fallbacks: number;
  srm: Srm;
  byConfig: ConfigSrm[];
}

export interface ScoreSummary {
  mean: number | null;
  p10: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
}

export interface ModelSummary {
  version: string | null;
  calls: number;
  errors: { rate: number | null; byKind: Record<string, number> };
  latencyMs: { p50: number | null; p95: number | null; p99: number | null; mean: number | null };
  score: ScoreSummary;
  decisionRate: number | null;
  /** Only when records carry calibrated (`normalized`) scores (docs/calibration.md). */
  normalized?: ScoreSummary & { n: number };
}

export interface Agreement {
  n: number;
  decisionAgreement: number | null;
  pearson: number | null;
  spearman: number | null;
  meanAbsDelta: number | null;
}

/** How a model does at the one calibrated threshold (its `decision`), over calibrated labelled records. */
export interface AtThreshold {
  n: number;
  positives: number;
  decisionRate: number | null;
  precision: number | null;
  recall: number | null;
}

/** One model at the champion's decision rate (docs/report.md, "matched"). */
export interface MatchedModel {
  threshold: number | null;
  decisionRate: number | null;
  precision: number | null;
  recall: number | null;
  /** Null without `--value`. */
  valueRecall: number | null;
}

export interface Paired {
  n: number;
  championOnlyCorrect: number;
  challengerOnlyCorrect: number;
  pValue: number | null;
  /** Durkalski's McNemar over clusters. */
  clusteredPValue: number | null;
  /** Always valid: may be read after every label. */
  sequentialPValue: number | null;
}

export interface Labels {
  n: number;
  /** Records that count for label figures (all, or those older than `matureBefore`). */
  eligible: number;
  coverage: number | null;
  /** Epoch ms; with `--mature`, label figures use records before it. */
  matureBefore: number | null;
  champion: ModelMetrics;
  challenger: ModelMetrics;
  control: { champion: ModelMetrics; challenger: ModelMetrics };
  paired: Paired;
  aucTest: { diff: number | null; ci: [number, number] | null; pValue: number | null };
  matched: { rate: number | null; champion: MatchedModel; challenger: MatchedModel; pValue: number | null };
  byDay: { day: string; records: number; labelled: number }[];
  /** Outcome lines read: `accepted` usable, `rejected` (label not 0/1/true/false, or no requestId/unit). */
  outcomes: { accepted: number; rejected: number };
  /** Only when records carry calibrated (`normalized`) scores (docs/calibration.md). */
  atThreshold?: { champion: AtThreshold; challenger: AtThreshold };
}

export interface GroupImpact {
  n: number;
  labeled: number;
  positiveRate: number | null;
  ci: [number, number] | null;
  decisionRate: number | null;
  /** With `--value`. */
  value?: { total: number; positive: number; perRecord: number | null };
}

export interface Difference {
  diff: number | null;
  ci: [number, number] | null;
  pValue: number | null;
}

export interface Impact {
  control: GroupImpact;
  champion: GroupImpact;
  challenger: GroupImpact;
  /** `value` with `--value`: the difference in value lost per request. */
  challengerVsChampion: Difference & { value?: Difference };
}

export interface Segment {
  n: number;
  agreement: number | null;
  champion: ModelMetrics;
  challenger: ModelMetrics;
}

/** One model in one timeline bucket: docs/report.md "models" figures within the bucket. */
export interface TimelineModel {
  calls: number;
  errorRate: number | null;
  latencyP99: number | null;
  scoreP50: number | null;
  scoreP90: number | null;
  scoreP95: number | null;
  decisionRate: number | null;
}

/** docs/report.md, "timeline": non-empty buckets of `bucketMs`, ascending. */
export interface Timeline {
  bucketMs: number;
  rows: { start: number; records: number; labelled: number; champion: TimelineModel; challenger: TimelineModel }[];
}

export interface Report {
  window: ReportWindow;
  traffic: Traffic;
  models: Record<Role, ModelSummary>;
  agreement: Agreement;
  drift: { psi: number | null };
  labels: Labels;
  impact: Impact;
  /** Present with `--segment FIELD`. */
  timeline: Timeline;
  segments?: Record<string, Segment>;
  verdict: Verdict;
  /** The codes of every warning the text report prints (format.ts, flagsOf). */
  flags: FlagCode[];
}

export type FlagCode =
  | 'srm'
  | 'srm_config'
  | 'low_coverage'
  | 'challenger_error_rate'
  | 'low_shadow_coverage'
  | 'out_of_range_values'
  | 'insufficient_labels';

/** What the verdict decides on (`--verdict`). */
export type VerdictMetric = 'accuracy' | 'auc' | 'matched';

/** Series behind the HTML charts (kept apart from the report: not part of the JSON contract). */
export interface ChartData {
  /** Score histogram per model: share of the model's scores in [x0, x1). */
  scores: { model: Role; x0: number; x1: number; share: number }[];
  /** Latency histogram per model over calls (the last bin also holds everything above it). */
  latency: { model: Role; x0: number; x1: number; share: number }[];
  /** Records per group per time bucket. */
  traffic: { t: number; group: GroupName; n: number }[];
  /** Precision–recall points per model over labelled records (empty without labels). */
  pr: { model: Role; threshold: number; recall: number; precision: number }[];
  /** ROC points per model over labelled records, from (0, 0) to (1, 1) (empty without both classes). */
  roc: { model: Role; threshold: number; fpr: number; tpr: number }[];
  /** Each model's decisions on labelled records as one point of each curve (null where undefined). */
  operating: { model: Role; recall: number | null; precision: number | null; fpr: number | null }[];
  /** Config loads, ramp steps, rollbacks, guardrail trips and kill-switch changes in the window. */
  events: { t: number; type: string; config: string | null; detail: string }[];
  /** Marked events left out beyond the bound. */
  eventsOmitted: number;
  /** Records and labelled records per UTC day (`day`: epoch ms of its midnight), ascending. */
  coverage: { day: number; records: number; labelled: number }[];
}
