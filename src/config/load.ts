/** Reading a config: file → YAML/JSON data → `${VAR}` substituted → validated, with its id. */
import { parseDocument } from 'yaml';
import { CCR_ERR_CONFIG_READ } from '../errors.js';
import { readTextFile } from '../util/read-text.js';
import { configId } from './id.js';
import { configInvalid, isConfigInvalid, joinPath, type ConfigIssue } from './issues.js';
import { isMapping } from './reader.js';
import { validateConfig } from './schema.js';
import type { LoadedConfig } from './types.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parse config text (YAML; JSON is YAML too). A syntax error throws CCR_ERR_CONFIG_READ naming the
 * file, line and column. Warnings (an unknown `!tag`) count as errors: a config should mean one thing.
 */
export function parseConfigText(text: string, file: string): unknown {
  const doc = parseDocument(text);
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) {
    const pos = problem.linePos?.[0];
    const where = pos === undefined ? '' : ` at line ${pos.line}, column ${pos.col}`;
    // yaml appends " at line L, column C:" and a source excerpt; keep only the reason.
    const reason = problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw readError(`cannot parse config ${file}${where}: ${reason}`, problem);
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // An unknown alias (*x) or an alias bomb only shows when the document is turned into data.
    throw readError(`cannot parse config ${file}: ${(err as Error).message}`, err);
  }
}

const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const WHOLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/**
 * Replace `${NAME}` in every string value with `env.NAME` (`$${` writes a literal `${`). A value
 * that is exactly `"${NAME}"` is read again as a YAML scalar: it becomes a number, a boolean or null
 * when the variable's text reads as one, else stays that exact text. Unset variables throw one
 * CCR_ERR_CONFIG_INVALID naming each path. Returns a new tree; `raw` is not changed.
 */
export function substituteEnv(raw: unknown, env: Env): unknown {
  const issues: ConfigIssue[] = [];
  const out = walk(raw, '', env, issues);
  if (issues.length > 0) throw configInvalid(issues);
  return out;
}

function walk(value: unknown, path: string, env: Env, issues: ConfigIssue[]): unknown {
  if (typeof value === 'string') return substituteString(value, path, env, issues);
  if (Array.isArray(value)) return value.map((v, i) => walk(v, joinPath(path, i), env, issues));
  if (!isMapping(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // defineProperty: a "__proto__" key must stay a key (and be reported as unknown later).
    Object.defineProperty(out, k, { value: walk(v, joinPath(path, k), env, issues), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function substituteString(value: string, path: string, env: Env, issues: ConfigIssue[]): unknown {
  const whole = WHOLE.exec(value);
  if (whole !== null) {
    const text = env[whole[1]!];
    if (text === undefined) return unset(whole[1]!, path, issues);
    return rereadScalar(text);
  }
  return value.replace(REFERENCE, (match, name: string | undefined) => {
    if (name === undefined) return '${'; // the $${ escape
    if (!NAME.test(name)) {
      issues.push({ path, message: `${match} is not a variable reference: names use letters, digits and _ (write $\${ for a literal \${)` });
      return match;
    }
    const text = env[name];
    return text === undefined ? (unset(name, path, issues), match) : text;
  });
}

function unset(name: string, path: string, issues: ConfigIssue[]): undefined {
  issues.push({ path, message: `environment variable ${name} is not set` });
  return undefined;
}

/** `"8080"` → 8080, `"true"` → true, `"~"` → null; anything else (text, lists, bad YAML) stays as is. */
function rereadScalar(text: string): unknown {
  // An empty variable would read as YAML null; it stays the empty string the user set.
  if (text.trim() === '') return text;
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || doc.warnings.length > 0) return text;
  let v: unknown;
  try {
    v = doc.toJS();
  } catch {
    return text;
  }
  return v === null || typeof v === 'number' || typeof v === 'boolean' ? v : text;
}

/**
 * Validate a config built in code (the demo, tests). With `env`, `${VAR}` references are substituted
 * first; without it the object is taken as is, so the process environment never leaks in by accident.
 */
export function loadConfigObject(raw: unknown, env?: Env): LoadedConfig {
  const config = validateConfig(env === undefined ? raw : substituteEnv(raw, env));
  return { config, id: configId(config) };
}

/**
 * Read, substitute and validate a config file (synchronously: start-up and reloads need it whole).
 * Throws CCR_ERR_CONFIG_READ (missing, unreadable, bad YAML) or CCR_ERR_CONFIG_INVALID, both naming
 * the file's absolute path; `file` in the result is that path.
 */
export function loadConfigFile(file: string, env: Env = process.env): LoadedConfig {
  const { text, abs } = readTextFile(file, 'config', readError);
  try {
    return { ...loadConfigObject(parseConfigText(text, abs), env), file: abs };
  } catch (err) {
    if (isConfigInvalid(err)) throw Object.assign(configInvalid(err.issues, abs), { cause: err });
    throw err;
  }
}

function readError(message: string, cause: unknown): Error {
  return new CCR_ERR_CONFIG_READ(message, { cause });
}
