/**
 * The effective configuration (SPEC 3): every default filled in, durations in milliseconds,
 * sizes in bytes, `${VAR}` substituted. Produced by `validateConfig` and deep-frozen.
 */
import type { Calibration } from '../calibration/table.js';

export type Role = 'champion' | 'challenger';
export type Group = 'control' | 'champion' | 'challenger';
export type Preset = 'kserve-v2' | 'tfserving' | 'mlflow';

export interface ModelConfig {
  /** http(s) base URL; its path is a prefix for the request path. No query, fragment or credentials. */
  url: string;
  version: string;
  /** Bounds connect and the whole response (default 1000). */
  timeoutMs: number;
  /** Overrides `decision.threshold` for this model (ignored with calibration). */
  threshold?: number;
}

export interface RouteConfig {
  /** Upper-case HTTP method (default POST). */
  method: string;
  path: string;
  /** JSON Pointer to the score; exactly one of `score` / `preset`. */
  score?: string;
  preset?: Preset;
}

export interface ControlResponse {
  status: number;
  body?: unknown;
}

export interface GuardrailsConfig {
  window: number;
  minSamples: number;
  maxErrorRate?: number;
  maxLatencyP99Ratio?: number;
  maxDecisionRateRatio?: number;
  maxScorePsi?: number;
  action: 'rollback' | 'alert';
}

export interface RampConfig {
  steps: number[];
  /** Milliseconds between steps. */
  every: number;
}

export interface CalibrationConfig {
  file: string;
  /** JSON Pointer where the served model's normalized score is injected into the response. */
  inject?: string;
}

export interface Config {
  listen: { host: string; port: number };
  admin: { host: string; port: number; tokenEnv?: string };
  models: { champion: ModelConfig; challenger: ModelConfig };
  routes: RouteConfig[];
  passthrough: boolean;
  decision: { threshold: number };
  assignment: {
    /** `header:NAME` (NAME lower-cased) | `query:NAME` | `body:/json/pointer` | `none` */
    unit: string;
    salt: string;
    seed?: string | number;
  };
  traffic: { control: number; challenger: number; shadow: boolean; shadowLimit: number };
  control: { patch?: Record<string, unknown>; response?: ControlResponse };
  fallback: 'champion' | 'none';
  mode: 'normal' | 'bypass';
  limits: { bodyBytes: number; headersTimeoutMs: number; requestTimeoutMs: number };
  shutdownGraceMs: number;
  logging: {
    dir: string;
    unit: 'raw' | 'hash' | 'omit';
    /** name → JSON Pointer into the request body */
    fields: Record<string, string>;
    bodies: boolean;
    redact: string[];
    /** size in bytes; keep = number of files kept (absent: keep all) */
    rotate?: { size: number; keep?: number };
  };
  guardrails?: GuardrailsConfig;
  ramp?: RampConfig;
  calibration?: CalibrationConfig;
}

/** A loaded config with its id (first 12 hex chars of SHA-256 over the canonical JSON). */
export interface LoadedConfig {
  config: Config;
  id: string;
  /** Absolute path of the file it came from, when it came from a file. */
  file?: string;
  /** The table of `calibration.file`, once loaded (see calibration/attach.ts). */
  calibration?: Calibration;
}
