/**
 * Typed field readers for config validation. Each read records a problem instead of throwing, so a
 * single pass reports every problem; a value that failed reads as `undefined` and the caller skips the
 * cross-field checks that would need it.
 */
import { parsePointer, setOwn } from '../util/json-pointer.js';
import {
  bare, describe, isConfigInvalid, joinPath, quote, type ConfigIssue, type EnvSource, type EnvSources,
} from './issues.js';
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

/** Where a validation pass reports: its problems, and which values came from the environment. */
export interface ReadContext {
  issues: ConfigIssue[];
  sources: EnvSources;
}

/** One mapping of the config at `path`, with the keys it may hold. */
export class Section {
  readonly #ctx: ReadContext;
  readonly #obj: Mapping;
  readonly path: string;
  /** False when the key was absent (or not a mapping): the section reads as empty, defaults apply. */
  readonly present: boolean;

  /** `keys` null: any key is allowed (a mapping of user-chosen names). */
  constructor(ctx: ReadContext, value: unknown, path: string, keys: readonly string[] | null) {
    this.#ctx = ctx;
    this.path = path;
    if (value === undefined) {
      this.#obj = {};
      this.present = false;
      return;
    }
    if (!isMapping(value)) {
      this.problem(path, `must be a mapping, got ${this.describe(value, path)}`);
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
    this.#ctx.issues.push({ path, message });
    return undefined;
  }

  /** Where the value at `path` came from, when it came from the environment. */
  source(path: string): EnvSource | undefined {
    return this.#ctx.sources.get(path);
  }

  /** The value at `path` described for a message (`string "x"`, or `string from ${VAR}`). */
  describe(value: unknown, path: string): string {
    return describe(value, this.source(path));
  }

  /** The value at `path` quoted for a message (`"x"`, `5`, or `the value of ${VAR}`). */
  quote(value: unknown, path: string): string {
    return quote(value, this.source(path));
  }

  /** The value at `path` as bare text for a message (`POST`, or `the value of ${VAR}`). */
  bare(value: unknown, path: string): string {
    return bare(value, this.source(path));
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
    return new Section(this.#ctx, value, path, keys);
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
      if (typeof v !== 'string') return this.problem(p, `must be a string, got ${this.describe(v, p)}`);
      if (nonEmpty && v === '') return this.problem(p, 'must not be empty');
      return v;
    });
  }

  bool(key: string, def?: Default<boolean>): boolean | undefined {
    return this.#read(key, def, (v, p) =>
      typeof v === 'boolean' ? v : this.problem(p, `must be true or false, got ${this.describe(v, p)}`));
  }

  num(key: string, def?: Default<number>, rule: NumberRule = {}): number | undefined {
    return this.#read(key, def, (v, p) => this.checkNumber(v, p, rule));
  }

  /** A fraction in [0, 1]. */
  fraction(key: string, def?: Default<number>): number | undefined {
    return this.num(key, def, { min: 0, max: 1 });
  }

  checkNumber(v: unknown, p: string, rule: NumberRule): number | undefined {
    if (typeof v !== 'number') return this.problem(p, `must be a number, got ${this.describe(v, p)}`);
    if (!Number.isFinite(v)) return this.problem(p, `must be a finite number, got ${this.quote(v, p)}`);
    if (rule.integer && !Number.isInteger(v)) return this.problem(p, `must be an integer, got ${this.quote(v, p)}`);
    if (rule.min !== undefined && v < rule.min) return this.problem(p, `must be >= ${rule.min}`);
    if (rule.gt !== undefined && v <= rule.gt) return this.problem(p, `must be > ${rule.gt}`);
    if (rule.max !== undefined && v > rule.max) return this.problem(p, `must be <= ${rule.max}`);
    return v;
  }

  oneOf<T extends string>(key: string, values: readonly T[], def?: Default<T>): T | undefined {
    // find, not includes: the value comes back typed as one of `values`, no cast needed.
    return this.#read(key, def, (v, p) => values.find((allowed) => allowed === v) ??
      this.problem(p, `must be one of ${values.join(', ')}, got ${this.describe(v, p)}`));
  }

  /** Milliseconds; `min` 1 for timeouts, 0 where zero means "do not wait". */
  duration(key: string, def: Default<number>, min: 0 | 1): number | undefined {
    return this.#read(key, def, (v, p) => {
      const ms = this.#units(() => parseDuration(v, p, this.source(p)));
      return ms === undefined ? undefined : this.checkNumber(ms, p, { min });
    });
  }

  /** Bytes, at least 1. */
  size(key: string, def?: Default<number>): number | undefined {
    return this.#read(key, def, (v, p) => {
      const bytes = this.#units(() => parseSize(v, p, this.source(p)));
      return bytes === undefined ? undefined : this.checkNumber(bytes, p, { min: 1 });
    });
  }

  #units(parse: () => number): number | undefined {
    try {
      return parse();
    } catch (err) {
      if (!isConfigInvalid(err)) throw err;
      this.#ctx.issues.push(...err.issues);
      return undefined;
    }
  }

  pointer(key: string, def?: Default<string>, nonEmpty = false): string | undefined {
    return this.#read(key, def, (v, p) => this.checkPointer(v, p, nonEmpty));
  }

  /** A JSON Pointer (RFC 6901); `nonEmpty` refuses "" (the whole document) where it cannot apply. */
  checkPointer(v: unknown, p: string, nonEmpty = false): string | undefined {
    if (typeof v !== 'string') return this.problem(p, `must be a JSON Pointer string, got ${this.describe(v, p)}`);
    if (nonEmpty && v === '') return this.problem(p, `must be a JSON Pointer starting with "/", got ${this.quote(v, p)}`);
    try {
      parsePointer(v);
    } catch (err) {
      // The parser quotes the pointer; a pointer from the environment is named by its source instead.
      const message = (err as Error).message;
      return this.problem(p, this.source(p) === undefined ? message : message.split(JSON.stringify(v)).join(this.quote(v, p)));
    }
    return v;
  }

  list(key: string, def?: Default<unknown[]>): unknown[] | undefined {
    return this.#read(key, def, (v, p) =>
      Array.isArray(v) ? v : this.problem(p, `must be a list, got ${this.describe(v, p)}`));
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
      // A "__proto__" key from YAML must stay data, not become the prototype.
      const out: Mapping = {};
      for (const [k, item] of Object.entries(v)) setOwn(out, k, this.checkJson(item, joinPath(p, k)));
      return out;
    }
    return this.problem(p, `must be a JSON value, got ${this.describe(v, p)}`);
  }
}

/** "unknown key", with the nearest allowed key when it looks like a typo. */
function unknownKey(key: string, keys: readonly string[]): string {
  // One edit for short keys, two for longer ones: "prot" → port, but "name" is not "ramp".
  let bestDistance = key.length > 5 ? 3 : 2;
  let best: string | undefined;
  const lower = key.toLowerCase();
  for (const k of keys) {
    // The distance is at least the difference in length: skip the table when that already loses
    // (a config may hold thousands of unknown keys, some of them very long).
    if (Math.abs(key.length - k.length) >= bestDistance) continue;
    const d = distance(lower, k.toLowerCase());
    if (d < bestDistance) { best = k; bestDistance = d; }
  }
  return best === undefined ? 'unknown key' : `unknown key (did you mean ${best}?)`;
}

/** Edit distance counting a swap of neighbours as one edit (optimal string alignment), in three rows. */
function distance(a: string, b: string): number {
  let before = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, before[j - 2]! + 1);
      row[j] = v;
    }
    [before, prev, row] = [prev, row, before];
  }
  return prev[b.length]!;
}
