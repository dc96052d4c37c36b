/**
 * Perturbed variants of sample request bodies (docs/probe.md, "What it sends"). Pure and
 * deterministic: the same samples always give the same variants in the same order, so two probe
 * runs are comparable call for call.
 *
 * A variant is a small edit of one sample, not a body: bodies are rendered only when sent
 * (`renderVariant`), so a thousand samples with 100 000-character strings never sit in memory at once.
 */
import { formatPointer, setOwn, type Pointer } from '../util/json-pointer.js';

export type PerturbationKind =
  | 'original'
  | 'field_removed'
  | 'null'
  | 'wrong_type'
  | 'extreme_number'
  | 'empty_string'
  | 'long_string'
  | 'non_ascii'
  | 'empty_object'
  | 'malformed_json'
  | 'jitter';

/** Every kind in report order; `original` (the sample untouched) is the baseline for `jitter`. */
export const PERTURBATION_KINDS: readonly PerturbationKind[] = Object.freeze([
  'original', 'field_removed', 'null', 'wrong_type', 'extreme_number', 'empty_string',
  'long_string', 'non_ascii', 'empty_object', 'malformed_json', 'jitter',
]);

export type JsonObject = { [key: string]: unknown };

export type Edit =
  | { op: 'none' }
  | { op: 'remove'; path: Pointer }
  | { op: 'set'; path: Pointer; value: unknown }
  /** The whole body replaced by this text (not necessarily JSON). */
  | { op: 'raw'; text: string };

export interface Variant {
  kind: PerturbationKind;
  /** JSON Pointer of the perturbed field; null for whole-body kinds. */
  field: string | null;
  /** Index of the sample it derives from; null when it derives from none (`empty_object`). */
  sample: number | null;
  edit: Edit;
}

export const LONG_STRING_LENGTH = 100_000;
export const LONG_STRING = 'x'.repeat(LONG_STRING_LENGTH);
export const NON_ASCII = 'Ünïcødé ✓ 中文 🚀';
export const EXTREME_NUMBERS: readonly number[] = Object.freeze([1e308, -1e308, 0]);
/** Relative size of the numeric jitter: one variant at ×(1 + J), one at ×(1 − J). */
export const JITTER = 0.01;

// Bounds keep a deeply nested or array-heavy sample from exploding into thousands of calls.
export const MAX_DEPTH = 4;
export const MAX_ARRAY_ITEMS = 8;
export const MAX_FIELDS = 100;

/**
 * Fields of a sample, breadth first (top-level fields before nested ones, so the bound on their
 * number drops the deepest ones), at most MAX_DEPTH tokens deep and MAX_ARRAY_ITEMS per array.
 */
export function listFields(sample: JsonObject): Array<{ path: Pointer; value: unknown }> {
  const out: Array<{ path: Pointer; value: unknown }> = [];
  let level: Array<{ path: Pointer; value: unknown }> = [{ path: [], value: sample }];
  while (level.length > 0 && out.length < MAX_FIELDS) {
    const next: Array<{ path: Pointer; value: unknown }> = [];
    for (const { path, value } of level) {
      if (path.length >= MAX_DEPTH || value === null || typeof value !== 'object') continue;
      const entries = Array.isArray(value)
        ? value.slice(0, MAX_ARRAY_ITEMS).map((v, i) => [String(i), v] as const)
        : Object.entries(value);
      for (const [key, child] of entries) {
        if (out.length >= MAX_FIELDS) break;
        const field = { path: [...path, key], value: child };
        out.push(field);
        next.push(field);
      }
    }
    level = next;
  }
  return out;
}

/** A value of another JSON type: numbers and booleans become strings, strings numbers, containers strings. */
export function wrongType(value: unknown): unknown {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return value.length;
  return JSON.stringify(value);
}

/** The variants of one sample, in a fixed order: per field, then whole-body, then jitter. */
export function perturbSample(sample: JsonObject, index: number): Variant[] {
  const out: Variant[] = [{ kind: 'original', field: null, sample: index, edit: { op: 'none' } }];
  const fields = listFields(sample);
  const set = (kind: PerturbationKind, path: Pointer, value: unknown): void => {
    out.push({ kind, field: formatPointer(path), sample: index, edit: { op: 'set', path, value } });
  };
  for (const { path, value } of fields) {
    out.push({ kind: 'field_removed', field: formatPointer(path), sample: index, edit: { op: 'remove', path } });
    // A field that is already null has no null variant and no type to get wrong.
    if (value === null) continue;
    set('null', path, null);
    set('wrong_type', path, wrongType(value));
    if (typeof value === 'number') {
      for (const n of EXTREME_NUMBERS) if (!Object.is(n, value)) set('extreme_number', path, n);
    }
    if (typeof value === 'string') {
      if (value !== '') set('empty_string', path, '');
      set('long_string', path, LONG_STRING);
      if (value !== NON_ASCII) set('non_ascii', path, NON_ASCII);
    }
  }
  out.push({ kind: 'malformed_json', field: null, sample: index, edit: { op: 'raw', text: truncated(sample) } });
  for (const { path, value } of fields) {
    // Zero has no ±1% neighbour; jitter measures stability, not edge cases.
    if (typeof value !== 'number' || value === 0 || !Number.isFinite(value)) continue;
    set('jitter', path, value * (1 + JITTER));
    set('jitter', path, value * (1 - JITTER));
  }
  return out;
}

/** The sample's JSON cut in half: the most common way a body arrives malformed. */
function truncated(sample: JsonObject): string {
  const text = JSON.stringify(sample);
  return text.slice(0, Math.max(1, Math.floor(text.length / 2)));
}

/**
 * Every variant of every sample. `empty_object` is the same body whatever the sample, so it is
 * derived once, after the per-sample variants.
 */
export function deriveVariants(samples: readonly JsonObject[]): Variant[] {
  const out = samples.flatMap((s, i) => perturbSample(s, i));
  out.push({ kind: 'empty_object', field: null, sample: null, edit: { op: 'raw', text: '{}' } });
  return out;
}

/** The body text of a variant. */
export function renderVariant(samples: readonly JsonObject[], v: Variant): string {
  if (v.edit.op === 'raw') return v.edit.text;
  const sample = samples[v.sample!]!;
  if (v.edit.op === 'none') return JSON.stringify(sample);
  return JSON.stringify(edited(sample, v.edit.path, v.edit.op === 'remove' ? REMOVE : v.edit.value));
}

const REMOVE = Symbol('remove');

/** A copy of `doc` with the value at `path` replaced (or removed); only the containers on the path are copied. */
function edited(doc: unknown, path: Pointer, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(doc)) {
    const copy = doc.slice();
    const i = Number(head);
    if (rest.length === 0 && value === REMOVE) copy.splice(i, 1);
    else copy[i] = edited(doc[i], rest, value);
    return copy;
  }
  const copy: JsonObject = {};
  for (const [k, v] of Object.entries(doc as JsonObject)) {
    if (k !== head) setOwn(copy, k, v);
    else if (rest.length > 0 || value !== REMOVE) setOwn(copy, k, edited(v, rest, value));
  }
  return copy;
}
