/** Config problems: every check records `{path, message}` so one error can list them all. */
import { CCR_ERR_CONFIG_INVALID } from '../errors.js';

/** One problem in a config: `path` is dotted with 0-based indexes (`routes[1].path`), "" for the root. */
export interface ConfigIssue {
  path: string;
  message: string;
}

export type ConfigInvalidError = InstanceType<typeof CCR_ERR_CONFIG_INVALID> & {
  issues: ConfigIssue[];
  file?: string;
};

/** `a.b` + `c` → `a.b.c`; `a` + 1 → `a[1]`. */
export function joinPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** `path: problem`, the line format every config message uses. */
export function formatIssue(issue: ConfigIssue): string {
  return `${issue.path === '' ? '(root)' : issue.path}: ${issue.message}`;
}

/**
 * One CCR_ERR_CONFIG_INVALID listing every issue on its own line. The lines carry no indent so
 * scripts (and tests) can match `^path: problem$` per line.
 */
export function configInvalid(issues: readonly ConfigIssue[], file?: string): ConfigInvalidError {
  const n = issues.length;
  const head = `invalid config${file === undefined ? '' : ` ${file}`} (${n} problem${n === 1 ? '' : 's'}):`;
  const err = new CCR_ERR_CONFIG_INVALID([head, ...issues.map(formatIssue)].join('\n')) as ConfigInvalidError;
  err.issues = issues.map((i) => ({ ...i }));
  if (file !== undefined) err.file = file;
  return err;
}

/** Whether `err` is a CCR_ERR_CONFIG_INVALID carrying its issue list. */
export function isConfigInvalid(err: unknown): err is ConfigInvalidError {
  return (err as { code?: unknown } | null)?.code === 'CCR_ERR_CONFIG_INVALID' &&
    Array.isArray((err as { issues?: unknown }).issues);
}

/** A short description of a received value for "got ..." in messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}
