/**
 * What is particular to calling one model (docs/requests.md#what-each-model-receives): its own path
 * for a scored route (`models.<role>.paths`, after its URL's path prefix) and its own headers
 * (`models.<role>.headers`: set, or null to remove). Prepared once per model client.
 */
import type { ModelConfig } from '../config/types.js';

export class ModelRequest {
  /** The URL's path prefix ("" for none). */
  readonly prefix: string;
  /** Scored path → the full path this model is called on; null without `paths`. */
  readonly #paths: ReadonlyMap<string, string> | null;
  /** Lower-cased names of every configured header: the caller's are dropped. */
  readonly #drop: ReadonlySet<string> | null;
  /** [name, value, ...] appended on every call. */
  readonly #set: readonly string[];

  constructor(model: ModelConfig) {
    const url = new URL(model.url);
    this.prefix = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
    const paths = model.paths === undefined ? [] : Object.entries(model.paths);
    this.#paths = paths.length === 0 ? null : new Map(paths.map(([from, to]) => [from, this.prefix + to]));
    const headers = model.headers === undefined ? [] : Object.entries(model.headers);
    this.#drop = headers.length === 0 ? null : new Set(headers.map(([name]) => name));
    this.#set = headers.flatMap(([name, value]) => (value === null ? [] : [name, value]));
  }

  /** The request target for `url` (path and query as received): prefix, this model's path, query. */
  target(url: string): string {
    if (this.#paths === null) return this.prefix + url;
    const q = url.indexOf('?');
    const mapped = this.#paths.get(q < 0 ? url : url.slice(0, q));
    if (mapped === undefined) return this.prefix + url;
    return q < 0 ? mapped : mapped + url.slice(q);
  }

  /** `headers` ([name, value, ...]) with this model's headers set and removed; the same list when it has none. */
  headers(headers: string[]): string[] {
    if (this.#drop === null) return headers;
    const out: string[] = [];
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i]!;
      if (!this.#drop.has(name.toLowerCase())) out.push(name, headers[i + 1]!);
    }
    for (const item of this.#set) out.push(item);
    return out;
  }
}
