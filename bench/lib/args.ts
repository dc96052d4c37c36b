/** Command-line checks shared by the bench tools. */

/** A number > 0 (≥ 0 with `allowZero`) from a flag's raw value; `fallback` when the flag is absent. */
export function positive(name: string, v: string | undefined, fallback: number, allowZero = false): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new Error(`${name}: expected a number > ${allowZero ? '= ' : ''}0, got ${JSON.stringify(v)}`);
  return n;
}
