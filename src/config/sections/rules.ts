/** What several sections share: defaults, number rules, and the step from reads to a finished value. */

/** Every default, as docs/config.md lists them. */
export const DEFAULTS = Object.freeze({
  listen: Object.freeze({ host: '0.0.0.0', port: 8080 }),
  admin: Object.freeze({ host: '127.0.0.1', port: 9901 }),
  timeoutMs: 1000,
  threshold: 0.5,
  bodyBytes: 1024 * 1024,
  responseBytes: 16 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  shutdownGraceMs: 10_000,
  shutdownDelayMs: 0,
  shadowLimit: 1024,
  guardrailWindow: 1000,
  guardrailMinSamples: 200,
  controlStatus: 200,
});

export const PORT = { integer: true, min: 0, max: 65535 };
export const POSITIVE_INT = { integer: true, min: 1 };
/** Sums of fractions such as 0.3 + 0.7 may land a hair above 1 in binary floating point. */
export const EPSILON = 1e-9;
// RFC 9110 token characters: what an HTTP method and a header name may contain.
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The items of a list when every one was read successfully, else undefined. A failed read is
 * undefined and already reported, so a section built from this never carries a hole.
 */
export function allRead<T>(items: ReadonlyArray<T | undefined> | undefined): readonly T[] | undefined {
  return items?.every((item): item is T => item !== undefined) ? items : undefined;
}

/**
 * A section as its builder returns it: every key of T written out, an optional one as possibly
 * undefined (such members are deleted before the config is frozen). A key added to a type in
 * types.ts is then a compile error until its builder reads it, optional or not.
 */
// `{} extends Pick<T, K>` is the usual test for an optional key; `{}` is meant here.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type Built<T> = { [K in keyof Required<T>]: {} extends Pick<T, K> ? T[K] | undefined : T[K] };
