/** Config problems: every check records `{path, message}` so one error can list them all. */
import { CCR_ERR_CONFIG_INVALID } from '../errors.js';

/** One problem in a config: `path` is dotted with 0-based indexes (`routes[1].path`), "" for the root. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** A value that came from the environment: the string as written in the file, and where it sits. */
export interface EnvSource {
  /** `${TOKEN}` or `Bearer ${TOKEN}`: names the variables, never holds their text. */
  written: string;
  segments: ReadonlyArray<string | number>;
}

/** Path (as in messages) → the source of the value there; absent paths were written in the file. */
export type EnvSources = ReadonlyMap<string, EnvSource>;

export const NO_SOURCES: EnvSources = new Map();

/** At most this many problems are listed in a message (all stay in `err.issues`). */
export const LISTED_ISSUES = 100;
/** A listed problem is cut past this many characters (a hostile key may be a megabyte long). */
const LINE_CHARS = 500;

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
  const line = `${issue.path === '' ? '(root)' : issue.path}: ${issue.message}`;
  if (line.length <= LINE_CHARS) return line;
  // Never split a surrogate pair.
  const cut = /[\uDC00-\uDFFF]/.test(line[LINE_CHARS] ?? '') ? LINE_CHARS - 1 : LINE_CHARS;
  return `${line.slice(0, cut)}… (${line.length - cut} more characters)`;
}

/**
 * One CCR_ERR_CONFIG_INVALID listing every issue on its own line. The lines carry no indent so
 * scripts (and tests) can match `^path: problem$` per line.
 */
export function configInvalid(issues: readonly ConfigIssue[], file?: string): ConfigInvalidError {
  const n = issues.length;
  const listed = n > LISTED_ISSUES ? `, the first ${LISTED_ISSUES} listed` : '';
  const head = `invalid config${file === undefined ? '' : ` ${file}`} (${n} problem${n === 1 ? '' : 's'}${listed}):`;
  const lines = issues.slice(0, LISTED_ISSUES).map(formatIssue);
  const err = new CCR_ERR_CONFIG_INVALID([head, ...lines].join('\n')) as ConfigInvalidError;
  err.issues = issues.map((i) => ({ ...i }));
  if (file !== undefined) err.file = file;
  return err;
}

/** Whether `err` is a CCR_ERR_CONFIG_INVALID carrying its issue list. */
export function isConfigInvalid(err: unknown): err is ConfigInvalidError {
  return (err as { code?: unknown } | null)?.code === 'CCR_ERR_CONFIG_INVALID' &&
    Array.isArray((err as { issues?: unknown }).issues);
}

/**
 * A short description of a received value for "got ..." in messages: `string "x"`, `number 5`; for a
 * value from the environment its kind and source only (`string from ${TOKEN}`).
 */
export function describe(value: unknown, src?: EnvSource): string {
  if (src !== undefined) return `${kind(value)} from ${origin(src)}`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : typeof value;
}

/** A value written as one `${NAME}` reference and nothing else (the name captured). */
export const WHOLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** `${TOKEN}` when the value was exactly one variable, else the string as written, quoted. */
function origin(src: EnvSource): string {
  return WHOLE.test(src.written) ? src.written : JSON.stringify(src.written);
}

/**
 * A value quoted in a message: strings in JSON quotes, numbers as they are; a value from the
 * environment by its source only (`the value of ${PORT}`, `the value from "http://${HOST}:1"`).
 */
export function quote(value: unknown, src?: EnvSource): string {
  if (src !== undefined) return `the value ${WHOLE.test(src.written) ? 'of' : 'from'} ${origin(src)}`;
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** As `quote`, but a string from the file is shown bare (`POST /predict`). */
export function bare(value: unknown, src?: EnvSource): string {
  return src === undefined ? String(value) : quote(value, src);
}
