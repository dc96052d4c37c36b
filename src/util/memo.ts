/**
 * `fn` remembered per string key, for per-unit work on the hot path (a unit is seen again and
 * again). Exact (same function); bounded: past `max` keys the memory starts over.
 */
export function memoByKey<T>(fn: (key: string) => T, max = 16_384): (key: string) => T {
  let memo = new Map<string, T>();
  return (key) => {
    let v = memo.get(key);
    if (v === undefined) {
      v = fn(key);
      if (memo.size >= max) memo = new Map();
      memo.set(key, v);
    }
    return v;
  };
}
