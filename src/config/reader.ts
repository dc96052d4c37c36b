/**
 * Typed field readers for config validation. Each read records a problem instead of throwing, so a
 * single pass reports every problem; a value that failed reads as `undefined` and the caller skips the
 * cross-field checks that would need it.
 */
import { parsePointer } from '../util/json-pointer.js';
import { describe, isConfigInvalid, joinPath, type ConfigIssue } from './issues.js';
import { parseDuration, parseSize } from './units.js';

export type Mapping = Record<string, unknown>;

/** Pass as the default of a read to make the key required. */
export const REQUIRED: unique symbol = Symbol('required');
type Default<T> = T | typeof REQUIRED | undefined;

export interface NumberRule {
  min?: number;
  max?: number;
  /** Strict lower bound: `must be > gt`. */
  gt?: number;
  integer?: boolean;
}

/** A plain object: what YAML and JSON produce for a mapping (a Buffer or a Map is not one). */
export function isMapping(value: unknown): value is Mapping {
  if (value === null || typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** One mapping of the config at `path`, with the keys it may hold. */
export class Section {
  readonly #issues: ConfigIssue[];
  readonly #obj: Mapping;
  readonly path: string;
  /** False when the key was absent (or not a mapping): the section reads as empty, defaults apply. */
  readonly present: boolean;

  /** `keys` null: any key is allowed (a mapping of user-chosen names). */
  constructor(issues: ConfigIssue[], value: unknown, path: string, keys: readonly string[] | null) {
    this.#issues = issues;
    this.path = path;
    if (value === undefined) {
      this.#obj = {};
      this.present = false;
      return;
    }
    if (!isMapping(value)) {
      this.problem(path, `must be a mapping, got ${describe(value)}`);
      this.#obj = {};
      this.present = false;
      return;
    }
    this.#obj = value;
    this.present = true;
    if (keys === null) return;
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) this.problem(joinPath(path, key), unknownKey(key, keys));
    }
  }

  problem(path: string, message: string): undefined {
    this.#issues.push({ path, message });
    return undefined;
  }

  at(key: string): string {
    return joinPath(this.path, key);
  }

  raw(key: string): unknown {
    return Object.prototype.hasOwnProperty.call(this.#obj, key) ? this.#obj[key] : undefined;
  }

  keys(): string[] {
    return Object.keys(this.#obj);
  }

  has(key: string): boolean {
    return this.raw(key) !== undefined;
  }

  section(key: string, keys: readonly string[] | null): Section {
    return this.sub(this.raw(key), this.at(key), keys);
  }

  /** A section over any value (a list item), reporting into the same issue list. */
  sub(value: unknown, path: string, keys: readonly string[] | null): Section {
    return new Section(this.#issues, value, path, keys);
  }

  /** The value at `key`, or the default when absent; `read` checks a present value. */
  #read<T>(key: string, def: Default<T>, read: (value: unknown, path: string) => T | undefined): T | undefined {
    const value = this.raw(key);
    if (value === undefined) {
      if (def === REQUIRED) return this.problem(this.at(key), 'is required');
      return def;
    }
    return read(value, this.at(key));
  }

  str(key: string, def?: Default<string>, nonEmpty = false): string | undefined {
    return this.#read(key, def, (v, p) => {
      if (typeof v !== 'string') return this.problem(p, `must be a string, got ${describe(v)}`);
      if (nonEmpty && v === '') return this.problem(p, 'must not be empty');
      return v;
    });
  }

  bool(key: string, def?: Default<boolean>): boolean | undefined {
    return this.#read(key, def, (v, p) =>
      typeof v === 'boolean' ? v : this.problem(p, `must be true or false, got ${describe(v)}`));
  }

  num(key: string, def?: Default<number>, rule: NumberRule = {}): number | undefined {
    return this.#read(key, def, (v, p) => this.checkNumber(v, p, rule));
  }

  /** A fraction in [0, 1]. */
  fraction(key: string, def?: Default<number>): number | undefined {
    return this.num(key, def, { min: 0, max: 1 });
  }

  checkNumber(v: unknown, p: string, rule: NumberRule): number | undefined {
    if (typeof v !== 'number') return this.problem(p, `must be a number, got ${describe(v)}`);
    if (!Number.isFinite(v)) return this.problem(p, `must be a finite number, got ${v}`);
    if (rule.integer && !Number.isInteger(v)) return this.problem(p, `must be an integer, got ${v}`);
    if (rule.min !== undefined && v < rule.min) return this.problem(p, `must be >= ${rule.min}`);
    if (rule.gt !== undefined && v <= rule.gt) return this.problem(p, `must be > ${rule.gt}`);
    if (rule.max !== undefined && v > rule.max) return this.problem(p, `must be <= ${rule.max}`);
    return v;
  }

  oneOf<T extends string>(key: string, values: readonly T[], def?: Default<T>): T | undefined {
    return this.#read(key, def, (v, p) => (values as readonly unknown[]).includes(v)
      ? (v as T)
      : this.problem(p, `must be one of ${values.join(', ')}, got ${describe(v)}`));
  }

  /** Milliseconds; `min` 1 for timeouts, 0 where zero means "do not wait". */
  duration(key: string, def: Default<number>, min: 0 | 1): number | undefined {
    return this.#read(key, def, (v, p) => {
      const ms = this.#units(() => parseDuration(v, p));
      return ms === undefined ? undefined : this.checkNumber(ms, p, { min });
    });
  }

  /** Bytes, at least 1. */
  size(key: string, def?: Default<number>): number | undefined {
    return this.#read(key, def, (v, p) => {
      const bytes = this.#units(() => parseSize(v, p));
      return bytes === undefined ? undefined : this.checkNumber(bytes, p, { min: 1 });
    });
  }

  #units(parse: () => number): number | undefined {
    try {
      return parse();
    } catch (err) {
      if (!isConfigInvalid(err)) throw err;
      this.#issues.push(...err.issues);
      return undefined;
    }
  }

  pointer(key: string, def?: Default<string>, nonEmpty = false): string | undefined {
    return this.#read(key, def, (v, p) => this.checkPointer(v, p, nonEmpty));
  }

  /** A JSON Pointer (RFC 6901); `nonEmpty` refuses "" (the whole document) where it cannot apply. */
  checkPointer(v: unknown, p: string, nonEmpty = false): string | undefined {
    if (typeof v !== 'string') return this.problem(p, `must be a JSON Pointer string, got ${describe(v)}`);
    if (nonEmpty && v === '') return this.problem(p, 'must be a JSON Pointer starting with "/", got ""');
    try {
      parsePointer(v);
    } catch (err) {
      return this.problem(p, (err as Error).message);
    }
    return v;
  }

  list(key: string, def?: Default<unknown[]>): unknown[] | undefined {
    return this.#read(key, def, (v, p) =>
      Array.isArray(v) ? v : this.problem(p, `must be a list, got ${describe(v)}`));
  }

  /** Any JSON value (finite numbers only), deep-copied so the caller's object is never shared. */
  json(key: string): unknown {
    return this.#read(key, undefined, (v, p) => this.checkJson(v, p));
  }

  checkJson(v: unknown, p: string): unknown {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') return this.checkNumber(v, p, {});
    if (Array.isArray(v)) return v.map((item, i) => this.checkJson(item, joinPath(p, i)));
    if (isMapping(v)) {
      // defineProperty: a "__proto__" key from YAML must stay data, not become the prototype.
      const out: Mapping = {};
      for (const [k, item] of Object.entries(v)) {
        Object.defineProperty(out, k, { value: this.checkJson(item, joinPath(p, k)), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    return this.problem(p, `must be a JSON value, got ${describe(v)}`);
  }
}

/** "unknown key", with the nearest allowed key when it looks like a typo. */
function unknownKey(key: string, keys: readonly string[]): string {
  // One edit for short keys, two for longer ones: "prot" → port, but "name" is not "ramp".
  let bestDistance = key.length > 5 ? 3 : 2;
  let best: string | undefined;
  for (const k of keys) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) { best = k; bestDistance = d; }
  }
  return best === undefined ? 'unknown key' : `unknown key (did you mean ${best}?)`;
}

/** Edit distance counting a swap of neighbours as one edit (optimal string alignment). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
