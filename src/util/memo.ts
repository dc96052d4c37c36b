/**
 * Keys longer than this many characters are computed every time, never remembered: a cache keyed
 * by caller data (unit keys) must not grow with the size of what callers send (docs/config.md,
 * `assignment.unit`).
 */
export const MAX_CACHED_KEY = 256;

/** Characters of keys a memo holds at most before it starts over (with MAX_CACHED_KEY: ≤ 2 MiB of keys). */
export const MEMO_KEY_CHARS = 1024 * 1024;

/**
 * `fn` remembered per string key, for per-unit work on the hot path (a unit is seen again and
 * again). Exact (same function); bounded in entries and in bytes: keys longer than `maxKeyLength`
 * are not remembered, and past `max` keys or `MEMO_KEY_CHARS` characters of keys the memory starts over.
 */
export function memoByKey<T>(fn: (key: string) => T, max = 16_384, maxKeyLength = MAX_CACHED_KEY): (key: string) => T {
  let memo = new Map<string, T>();
  let chars = 0;
  return (key) => {
    if (key.length > maxKeyLength) return fn(key);
    let v = memo.get(key);
    if (v === undefined) {
      v = fn(key);
      if (memo.size >= max || chars + key.length > MEMO_KEY_CHARS) {
        memo = new Map();
        chars = 0;
      }
      memo.set(key, v);
      chars += key.length;
    }
    return v;
  };
}
