import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, parseSize } from '../../src/config/units.js';
import { invalid } from './helpers.js';

test('parseDuration: numbers are milliseconds, strings take ms|s|m|h', () => {
  const cases: Array<[unknown, number]> = [
    [250, 250], [0, 0], ['250', 250], ['250ms', 250], ['10s', 10_000], ['10m', 600_000], ['1h', 3_600_000],
    ['1.5s', 1500], ['0.1h', 360_000], ['10 s', 10_000], ['2H', 7_200_000], ['100MS', 100],
  ];
  for (const [input, ms] of cases) assert.equal(parseDuration(input, 'x'), ms, String(input));
});

test('parseDuration: errors name the path and the accepted forms', () => {
  const forms = 'a duration (milliseconds, or a string like 250ms, 10s, 10m, 1h)';
  const cases: Array<[unknown, string]> = [
    ['10d', `must be ${forms}, got "10d"`],
    ['-5s', `must be ${forms}, got "-5s"`],
    [-5, `must be ${forms}, got -5`],
    [Infinity, `must be ${forms}, got Infinity`],
    [true, `must be ${forms}, got boolean true`],
    ['', `must be ${forms}, got ""`],
    [1.5, 'must be a whole number of milliseconds, got 1.5'],
    ['0.5ms', 'must be a whole number of milliseconds, got "0.5ms"'],
  ];
  for (const [input, message] of cases) {
    assert.deepEqual(invalid(() => parseDuration(input, 'ramp.every')).issues, [{ path: 'ramp.every', message }], String(input));
  }
});

test('parseSize: numbers and digit strings are bytes, k|m|g are KiB|MiB|GiB, case-insensitive', () => {
  const cases: Array<[unknown, number]> = [
    [1024, 1024], ['1024', 1024], ['100k', 102_400], ['100K', 102_400], ['1m', 1_048_576], ['100M', 104_857_600],
    ['1g', 1_073_741_824], ['1.5m', 1_572_864], ['0', 0],
  ];
  for (const [input, bytes] of cases) assert.equal(parseSize(input, 'x'), bytes, String(input));
});

test('parseSize: errors name the path', () => {
  const forms = 'a size (bytes, or a string like 512k, 100m, 1g)';
  const cases: Array<[unknown, string]> = [
    ['100mb', `must be ${forms}, got "100mb"`],
    ['1t', `must be ${forms}, got "1t"`],
    [null, `must be ${forms}, got null`],
    [-1, `must be ${forms}, got -1`],
    ['0.1k', 'must be a whole number of bytes, got "0.1k"'],
  ];
  for (const [input, message] of cases) {
    assert.deepEqual(invalid(() => parseSize(input, 'limits.bodyBytes')).issues, [{ path: 'limits.bodyBytes', message }], String(input));
  }
  assert.match(invalid(() => parseSize('1t', 'limits.bodyBytes')).message, /^limits\.bodyBytes: must be a size/m);
});
