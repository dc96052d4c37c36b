/** Shared pieces for the config tests. */
import assert from 'node:assert/strict';
import { isConfigInvalid, type ConfigIssue } from '../../src/config/issues.js';

/** The smallest valid config: the two models and one route. A fresh object every call. */
export function minimal(): Record<string, any> {
  return {
    models: {
      champion: { url: 'http://127.0.0.1:9001', version: 'v1' },
      challenger: { url: 'http://127.0.0.1:9002', version: 'v2' },
    },
    routes: [{ path: '/predict', score: '/score' }],
  };
}

/** Run `fn`, expect CCR_ERR_CONFIG_INVALID, return its issues and message. */
export function invalid(fn: () => unknown): { issues: ConfigIssue[]; message: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(isConfigInvalid(err), `expected CCR_ERR_CONFIG_INVALID, got ${String(err)}`);
    assert.equal(err.code, 'CCR_ERR_CONFIG_INVALID');
    return { issues: err.issues, message: err.message };
  }
  assert.fail('expected CCR_ERR_CONFIG_INVALID, nothing was thrown');
}

/** Assert that `message` holds `line` as one whole line. */
export function assertLine(message: string, line: string): void {
  assert.ok(message.split('\n').includes(line), `expected the line\n  ${line}\nin\n${message}`);
}
