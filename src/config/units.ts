/** Durations and sizes as written in a config (`250ms`, `10m`, `100m` bytes), normalized to numbers. */
import { configInvalid, describe, quote, type EnvSource } from './issues.js';

const DURATION_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_BYTES: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i;
const SIZE_RE = /^(\d+(?:\.\d+)?)\s*([kmg])?$/i;

/**
 * A duration in milliseconds: a number is taken as milliseconds; a string is `<n><unit>` with unit
 * `ms|s|m|h` (case-insensitive; no unit means ms). The result must be a whole number of ms.
 * Throws CCR_ERR_CONFIG_INVALID naming `path`.
 */
export function parseDuration(value: unknown, path: string, src?: EnvSource): number {
  return parseUnit(value, path, src, DURATION_RE, DURATION_MS, 'ms', 'a duration (milliseconds, or a string like 250ms, 10s, 10m, 1h)', 'milliseconds');
}

/**
 * A size in bytes: a number is taken as bytes; a string is `<n>[k|m|g]` (KiB, MiB, GiB,
 * case-insensitive; digits alone are bytes). The result must be a whole number of bytes.
 * Throws CCR_ERR_CONFIG_INVALID naming `path`.
 */
export function parseSize(value: unknown, path: string, src?: EnvSource): number {
  return parseUnit(value, path, src, SIZE_RE, SIZE_BYTES, '', 'a size (bytes, or a string like 512k, 100m, 1g)', 'bytes');
}

function parseUnit(
  value: unknown, path: string, src: EnvSource | undefined, re: RegExp, units: Readonly<Record<string, number>>, defaultUnit: string,
  expected: string, unitName: string,
): number {
  let n: number;
  if (typeof value === 'number') {
    n = value;
  } else if (typeof value === 'string') {
    const m = re.exec(value);
    if (m === null) throw fail(path, `must be ${expected}, got ${quote(value, src)}`);
    n = Number(m[1]) * units[(m[2] ?? defaultUnit).toLowerCase()]!;
    // 0.1h * 3600000 is 360000.00000000006 in binary floating point: snap such noise to the integer.
    const r = Math.round(n);
    if (Math.abs(n - r) < 1e-6) n = r;
  } else {
    throw fail(path, `must be ${expected}, got ${describe(value, src)}`);
  }
  // quote: strings quoted, numbers as written (JSON.stringify would turn Infinity into null).
  if (!Number.isFinite(n) || n < 0) throw fail(path, `must be ${expected}, got ${quote(value, src)}`);
  if (!Number.isInteger(n)) throw fail(path, `must be a whole number of ${unitName}, got ${quote(value, src)}`);
  return n;
}

function fail(path: string, message: string): Error {
  return configInvalid([{ path, message }]);
}
