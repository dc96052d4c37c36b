/** Shared pieces for the config tests. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
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

/** A case: its name, a change to the minimal config, and the exact `path: problem` lines it must produce. */
export type RejectionCase = [string, (c: Record<string, any>) => void, ...string[]];

/** One test per case: exactly its lines, and every issue reported is in the message as `path: problem`. */
export function testRejections(cases: readonly RejectionCase[], validate: (raw: unknown) => unknown): void {
  for (const [name, change, ...lines] of cases) {
    test(name, () => {
      const raw = minimal();
      change(raw);
      const { issues, message } = invalid(() => validate(raw));
      for (const line of lines) assertLine(message, line);
      assert.equal(issues.length, lines.length, `exactly the expected problems, got:\n${message}`);
      for (const issue of issues) assertLine(message, `${issue.path}: ${issue.message}`);
    });
  }
}
