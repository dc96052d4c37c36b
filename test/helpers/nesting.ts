/** Reading deeply nested test values. */

/** How deep arrays go in `v`, and what the innermost one holds. */
export function dive(v: unknown): { depth: number; bottom: unknown } {
  let depth = 0;
  while (Array.isArray(v)) {
    depth++;
    if (v.length === 0) return { depth, bottom: undefined };
    v = v[0];
  }
  return { depth, bottom: v };
}
