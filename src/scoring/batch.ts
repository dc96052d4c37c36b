/**
 * Batches (docs/requests.md#batches): how many instances a request carries, and one score per
 * instance from a model's answer. A preset knows where both are; a pointer route names them with
 * `instances` (the request's array) and `score` (the answer's per-instance array).
 */
import type { Preset, RouteConfig } from '../config/types.js';
import { formatPointer, parsePointer, resolvePointer, type Pointer } from '../util/json-pointer.js';

/** Where a batch-aware route finds its instances and their scores. */
export type BatchReading =
  | { readonly kind: 'preset'; readonly preset: Preset }
  | { readonly kind: 'pointer'; readonly instances: Pointer; readonly scores: Pointer };

/** The batch reading of a route; null for a plain pointer route (one score per request). */
export function batchReading(route: Pick<RouteConfig, 'score' | 'preset' | 'instances'>): BatchReading | null {
  if (route.preset !== undefined) return { kind: 'preset', preset: route.preset };
  if (route.instances !== undefined && route.score !== undefined) {
    return { kind: 'pointer', instances: parsePointer(route.instances), scores: parsePointer(route.score) };
  }
  return null;
}

/**
 * A request's batch: `n` instances; or `message`, why its instances could not be counted (each
 * model outcome is then kind `parse`). `null` from {@link countInstances}: a preset request that
 * names no batch, read as one instance the way it always was.
 */
export type RequestBatch = { readonly n: number } | { readonly message: string };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const own = (o: Record<string, unknown>, k: string): unknown => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);

/** `inputs` in TF Serving's and MLflow's columnar form: an object of equally long columns. */
function rowsOf(v: unknown): number | undefined {
  if (Array.isArray(v)) return v.length;
  if (isObject(v)) {
    for (const k of Object.keys(v)) {
      const col = v[k];
      return Array.isArray(col) ? col.length : undefined;
    }
  }
  return undefined;
}

function presetCount(preset: Preset, json: unknown): number | undefined {
  if (!isObject(json)) return undefined;
  if (preset === 'kserve-v2') {
    const inputs = own(json, 'inputs');
    const first = Array.isArray(inputs) ? inputs[0] : undefined;
    const shape = isObject(first) ? own(first, 'shape') : undefined;
    const rows = Array.isArray(shape) ? shape[0] : undefined;
    return typeof rows === 'number' && Number.isSafeInteger(rows) && rows >= 0 ? rows : undefined;
  }
  if (preset === 'mlflow') {
    const split = own(json, 'dataframe_split');
    const data = isObject(split) ? own(split, 'data') : undefined;
    if (Array.isArray(data)) return data.length;
    const records = own(json, 'dataframe_records');
    if (Array.isArray(records)) return records.length;
  }
  const instances = own(json, 'instances');
  if (Array.isArray(instances)) return instances.length;
  return rowsOf(own(json, 'inputs'));
}

/** Where a preset's request names its instances, for messages. */
const PRESET_REQUEST: Readonly<Record<Preset, string>> = {
  'kserve-v2': '/inputs/0/shape/0',
  tfserving: '/instances or /inputs',
  mlflow: '/dataframe_split/data, /dataframe_records, /instances or /inputs',
};

/**
 * The instances of a request whose body parsed to `json` (undefined: not JSON). A pointer route
 * needs its array; a preset request without a batch field is one instance (null).
 */
export function countInstances(reading: BatchReading, json: unknown): RequestBatch | null {
  if (reading.kind === 'preset') {
    const n = presetCount(reading.preset, json);
    if (n === undefined) return null;
    return n === 0 ? { message: `empty batch: no instances at ${PRESET_REQUEST[reading.preset]} in the request` } : { n };
  }
  const at = formatPointer(reading.instances);
  if (json === undefined) return { message: `request body is not JSON (the route's instances pointer ${at} reads it)` };
  const v = resolvePointer(json, reading.instances);
  if (v === undefined) return { message: `no value at ${at} in the request (the route's instances)` };
  if (!Array.isArray(v)) return { message: `value at ${at} in the request is not an array (the route's instances)` };
  return v.length === 0 ? { message: `empty batch: the array at ${at} in the request has no instances` } : { n: v.length };
}

export type ScoresResult = { ok: true; scores: number[] } | { ok: false; message: string };

/** A per-instance score: a number, or an array whose last element is (the positive class). */
function scoreOf(v: unknown): number | undefined {
  if (Array.isArray(v) && v.length > 0) v = v[v.length - 1];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

const count = (n: number) => (n === 1 ? '1 instance' : `${n} instances`);

function fail(message: string): ScoresResult {
  return { ok: false, message };
}

/** One score per element of the array at `pointer`, which must hold exactly `n`. */
function elementScores(json: unknown, pointer: Pointer, n: number): ScoresResult {
  const at = formatPointer(pointer);
  const v = resolvePointer(json, pointer);
  if (v === undefined) return fail(`no value at ${at}`);
  if (!Array.isArray(v)) return fail(`value at ${at} is not an array (one score per instance)`);
  if (v.length !== n) return fail(`answer has ${v.length} scores at ${at} for ${count(n)}`);
  const scores = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const s = scoreOf(v[i]);
    if (s === undefined) return fail(`value at ${at}/${i} is not a number`);
    scores[i] = s;
  }
  return { ok: true, scores };
}

/** Nested arrays flattened in row-major order (KServe accepts `data` either way). */
function flatten(v: readonly unknown[], out: unknown[], depth: number): boolean {
  for (const x of v) {
    if (Array.isArray(x)) {
      if (depth >= 32 || !flatten(x, out, depth + 1)) return false;
    } else {
      out.push(x);
    }
  }
  return true;
}

/** KServe v2: `outputs[0].data` reshaped by `outputs[0].shape`; a row's score is its last column. */
function kserveScores(json: unknown, n: number): ScoresResult {
  const output = resolvePointer(json, ['outputs', '0']);
  if (!isObject(output)) return fail('no value at /outputs/0');
  const data = own(output, 'data');
  const flat: unknown[] = [];
  if (!Array.isArray(data) || !flatten(data, flat, 0)) return fail('value at /outputs/0/data is not an array of numbers');
  const shape = own(output, 'shape');
  let rows: number;
  if (Array.isArray(shape) && shape.length > 0 && shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    rows = shape[0] as number;
    const size = (shape as number[]).reduce((a, d) => a * d, 1);
    if (size !== flat.length) return fail(`/outputs/0/data holds ${flat.length} values, shape ${JSON.stringify(shape)} needs ${size}`);
  } else if (shape !== undefined) {
    return fail('value at /outputs/0/shape is not a list of dimensions');
  } else {
    // No shape: nested rows, or a flat vector that is one row (a single instance) or one score per instance.
    rows = Array.isArray(data[0]) ? data.length : n === 1 ? 1 : flat.length;
  }
  if (rows !== n) return fail(`answer has ${rows} rows at /outputs/0 for ${count(n)}`);
  if (rows === 0 || flat.length % rows !== 0) return fail(`/outputs/0/data holds ${flat.length} values, not a whole number of ${rows} rows`);
  const width = flat.length / rows;
  const scores = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const s = flat[i * width + width - 1];
    if (typeof s !== 'number' || !Number.isFinite(s)) return fail(`value at /outputs/0/data for row ${i} is not a number`);
    scores[i] = s;
  }
  return { ok: true, scores };
}

/** One score per instance from a model's answer (`json`: its parsed body) to a request of `n` instances. */
export function readScores(json: unknown, reading: BatchReading, n: number): ScoresResult {
  if (reading.kind === 'pointer') return elementScores(json, reading.scores, n);
  if (reading.preset === 'kserve-v2') return kserveScores(json, n);
  return elementScores(json, PREDICTIONS, n);
}

const PREDICTIONS: Pointer = ['predictions'];
