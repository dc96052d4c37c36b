/**
 * The effective configuration (docs/config.md, "Reference"): every default filled in, durations in
 * milliseconds, sizes in bytes, `${VAR}` substituted. validateConfig (schema.ts) builds it section by
 * section, each builder returning the section's type below (so the compiler holds the two together),
 * and deep-freezes it: the types are read-only all the way down, as the value is.
 */
import type { Calibration } from '../calibration/table.js';

export type Role = 'champion' | 'challenger';
export type Group = 'control' | 'champion' | 'challenger';

/** The words a key with a fixed set of values accepts: the validator and the types share these lists. */
export const PRESETS = ['kserve-v2', 'tfserving', 'mlflow'] as const;
export const FALLBACKS = ['champion', 'none'] as const;
export const MODES = ['normal', 'bypass'] as const;
export const LOGGED_UNITS = ['raw', 'hash', 'omit'] as const;
export const GUARDRAIL_ACTIONS = ['rollback', 'alert'] as const;
export const GUARDRAIL_RULES = ['error_rate', 'latency_p99_ratio', 'decision_rate_ratio', 'score_psi'] as const;

export type Preset = (typeof PRESETS)[number];
export type Fallback = (typeof FALLBACKS)[number];
export type Mode = (typeof MODES)[number];
export type LoggedUnit = (typeof LOGGED_UNITS)[number];
export type GuardrailAction = (typeof GUARDRAIL_ACTIONS)[number];
export type GuardrailRuleName = (typeof GUARDRAIL_RULES)[number];

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface AdminConfig extends Endpoint {
  /** The variable holding the admin bearer token; absent: no token, admin mutations answer 403. */
  readonly tokenEnv?: string;
}

export interface ModelConfig {
  /** http(s) base URL; its path is a prefix for the request path. No query, fragment or credentials. */
  readonly url: string;
  readonly version: string;
  /** Bounds connect and the whole response (default 1000). */
  readonly timeoutMs: number;
  /** Overrides `decision.threshold` for this model (ignored with calibration). */
  readonly threshold?: number;
  /**
   * Headers set on every call to this model, names lower-cased; null removes the caller's header of
   * that name (docs/requests.md#what-each-model-receives). A null-prototype-safe mapping (setOwn).
   */
  readonly headers?: Readonly<Record<string, string | null>>;
  /** Scored route path → this model's path (before the URL's path prefix). */
  readonly paths?: Readonly<Record<string, string>>;
  /** A PEM file of extra CA certificates trusted for this (https) model, as written. */
  readonly ca?: string;
}

export interface RouteConfig {
  /** Upper-case HTTP method (default POST). */
  readonly method: string;
  readonly path: string;
  /** JSON Pointer to the score; exactly one of `score` / `preset`. */
  readonly score?: string;
  readonly preset?: Preset;
  /** JSON Pointer to the request's array of instances (a batch route; only with `score`). */
  readonly instances?: string;
}

export interface AssignmentConfig {
  /** `header:NAME` (NAME lower-cased) | `query:NAME` | `body:/json/pointer` | `none` */
  readonly unit: string;
  readonly salt: string;
  readonly seed?: string | number;
}

export interface TrafficConfig {
  readonly control: number;
  readonly challenger: number;
  readonly shadow: boolean;
  readonly shadowLimit: number;
}

export interface ControlResponse {
  readonly status: number;
  readonly body?: unknown;
}

/** What the control group receives: the champion's answer patched, a fixed answer, or (neither) it as is. */
export interface ControlConfig {
  readonly patch?: Readonly<Record<string, unknown>>;
  readonly response?: ControlResponse;
}

export interface LimitsConfig {
  readonly bodyBytes: number;
  /** A model answer larger than this is a failed call of kind `too_large`. */
  readonly responseBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

export interface RotateConfig {
  /** Bytes. */
  readonly size: number;
  /** Number of files kept (absent: keep all). */
  readonly keep?: number;
}

export interface LoggingConfig {
  readonly dir: string;
  readonly unit: LoggedUnit;
  /** name → JSON Pointer into the request body */
  readonly fields: Readonly<Record<string, string>>;
  readonly bodies: boolean;
  readonly redact: readonly string[];
  readonly rotate?: RotateConfig;
}

export interface GuardrailsConfig {
  readonly window: number;
  readonly minSamples: number;
  /** An absent limit turns its rule off. */
  readonly maxErrorRate?: number;
  readonly maxLatencyP99Ratio?: number;
  readonly maxDecisionRateRatio?: number;
  readonly maxScorePsi?: number;
  /** The action of every rule without its own in `actions`. */
  readonly action: GuardrailAction;
  /** Per-rule actions, by rule name (`error_rate`, ...). */
  readonly actions?: Readonly<Partial<Record<GuardrailRuleName, GuardrailAction>>>;
}

export interface RampConfig {
  readonly steps: readonly number[];
  /** Milliseconds between steps. */
  readonly every: number;
}

export interface CalibrationConfig {
  readonly file: string;
  /** JSON Pointer where the served model's normalized score is injected into the response. */
  readonly inject?: string;
}

export interface FleetConfig {
  /** Instances with the same name and Redis share their levers (keys under `ccrouter:<name>:`). */
  readonly name: string;
  /** `redis://` or `rediss://` URL. */
  readonly redis: string;
  /** This instance's name in events, pair records and Redis values (default: the host name). */
  readonly instance: string;
}

export interface Config {
  readonly listen: Endpoint;
  readonly admin: AdminConfig;
  readonly models: Readonly<Record<Role, ModelConfig>>;
  readonly routes: readonly RouteConfig[];
  readonly passthrough: boolean;
  readonly decision: { readonly threshold: number };
  readonly assignment: AssignmentConfig;
  readonly traffic: TrafficConfig;
  readonly control: ControlConfig;
  readonly fallback: Fallback;
  readonly mode: Mode;
  readonly limits: LimitsConfig;
  readonly shutdownGraceMs: number;
  readonly shutdownDelayMs: number;
  readonly logging: LoggingConfig;
  readonly guardrails?: GuardrailsConfig;
  readonly ramp?: RampConfig;
  readonly calibration?: CalibrationConfig;
  readonly fleet?: FleetConfig;
}

/** A loaded config with its id (first 12 hex chars of SHA-256 over the canonical JSON). */
export interface LoadedConfig {
  config: Config;
  id: string;
  /** Absolute path of the file it came from, when it came from a file. */
  file?: string;
  /** SHA-256 (hex) of the file's text, when it came from a file: a reload tells edits from rewrites by it. */
  digest?: string;
  /** The table of `calibration.file`, once loaded (see calibration/attach.ts). */
  calibration?: Calibration;
}
