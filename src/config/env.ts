/**
 * `${NAME}` substitution, remembering which values came from the environment: a variable often holds
 * a secret (a model's token, a Redis password), so no message and no printout may quote such a value.
 * They name where it came from instead (docs/config.md, "Environment variables").
 */
import { parseDocument } from 'yaml';
import { CONFIG_BOUNDS, SIZE_LIMIT_TEXT } from './bounds.js';
import { WHOLE, configInvalid, joinPath, type ConfigIssue, type EnvSource, type EnvSources } from './issues.js';
import { isMapping } from './reader.js';
import { setOwn } from '../util/json-pointer.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Substituted {
  value: unknown;
  /** Path (as in messages) → where the value at that path came from. */
  sources: EnvSources;
  /** Every variable substituted, name → its text. */
  used: ReadonlyMap<string, string>;
}

const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replace `${NAME}` in every string value with `env.NAME` (`$${` writes a literal `${`). A value
 * that is exactly `"${NAME}"` is read again as a YAML scalar: it becomes a number, a boolean or null
 * when the variable's text reads as one, else stays that exact text. Unset variables throw one
 * CCR_ERR_CONFIG_INVALID naming each path. Returns a new tree; `raw` is not changed.
 */
export function substituteEnv(raw: unknown, env: Env): unknown {
  return substituteEnvTracked(raw, env).value;
}

/** substituteEnv, also telling which paths hold values from the environment. */
export function substituteEnvTracked(raw: unknown, env: Env): Substituted {
  const w = new Walk(env);
  const value = w.value(raw, '', []);
  if (w.issues.length > 0) throw configInvalid(w.issues);
  return { value, sources: w.sources, used: w.used };
}

class Walk {
  readonly issues: ConfigIssue[] = [];
  readonly sources = new Map<string, EnvSource>();
  readonly used = new Map<string, string>();
  readonly #env: Env;
  /** Characters substituted so far: a large variable referenced many times must not grow the config past its bound. */
  #added = 0;
  #over = false;

  constructor(env: Env) {
    this.#env = env;
  }

  value(value: unknown, path: string, segments: Array<string | number>): unknown {
    if (typeof value === 'string') return this.#string(value, path, segments);
    if (Array.isArray(value)) {
      return value.map((v, i) => {
        segments.push(i);
        const out = this.value(v, joinPath(path, i), segments);
        segments.pop();
        return out;
      });
    }
    if (!isMapping(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      segments.push(k);
      // A "__proto__" key must stay a key (and be reported as unknown later).
      setOwn(out, k, this.value(v, joinPath(path, k), segments));
      segments.pop();
    }
    return out;
  }

  #string(value: string, path: string, segments: Array<string | number>): unknown {
    const whole = WHOLE.exec(value);
    if (whole !== null) {
      const text = this.#lookup(whole[1]!, path);
      if (text === undefined) return undefined;
      this.sources.set(path, { written: value, segments: [...segments] });
      return rereadScalar(text);
    }
    let substituted = false;
    const out = value.replace(REFERENCE, (match, name: string | undefined) => {
      if (name === undefined) return '${'; // the $${ escape
      if (!NAME.test(name)) {
        this.issues.push({ path, message: `${match} is not a variable reference: names use letters, digits and _ (write $\${ for a literal \${)` });
        return match;
      }
      const text = this.#lookup(name, path);
      if (text === undefined) return match;
      substituted = true;
      return text;
    });
    if (substituted) this.sources.set(path, { written: value, segments: [...segments] });
    return out;
  }

  #lookup(name: string, path: string): string | undefined {
    const text = Object.prototype.hasOwnProperty.call(this.#env, name) ? this.#env[name] : undefined;
    if (text === undefined) {
      this.issues.push({ path, message: `environment variable ${name} is not set` });
      return undefined;
    }
    this.used.set(name, text);
    this.#added += text.length;
    if (this.#added > CONFIG_BOUNDS.bytes) {
      if (!this.#over) {
        this.issues.push({ path, message: `the values substituted from the environment add more than ${SIZE_LIMIT_TEXT} to the config, over the limit` });
      }
      this.#over = true;
      return undefined;
    }
    return text;
  }
}

const SCALAR_WORD = /^[-+.0-9A-Za-z_~]{1,256}$/;

/** `"8080"` → 8080, `"true"` → true, `"~"` → null; anything else (text, lists, bad YAML) stays as is. */
function rereadScalar(text: string): unknown {
  // An empty variable would read as YAML null; it stays the empty string the user set.
  if (text.trim() === '') return text;
  // Only a single plain word can read as a number, a boolean or null. Anything else stays text
  // without being parsed: a variable is not bounded like the file, and YAML nested thousands of
  // levels deep (`[[[...`, `- - - ...`) would exhaust the parser's stack.
  if (!SCALAR_WORD.test(text.trim())) return text;
  let v: unknown;
  try {
    const doc = parseDocument(text);
    if (doc.errors.length > 0 || doc.warnings.length > 0) return text;
    v = doc.toJS();
  } catch {
    return text;
  }
  return v === null || typeof v === 'number' || typeof v === 'boolean' ? v : text;
}

/** Variables shorter than this are not searched for in free text: "on" or "80" would match everywhere. */
const MIN_HIDDEN = 8;

/**
 * The last line of defence for messages built outside the config's own checks (a calibration table
 * naming a version, a library quoting a value): every substituted variable's text, quoted, and its
 * bare text when it is long enough to be a secret, is replaced by `(from ${NAME})`.
 */
export function hideEnv(message: string, used: ReadonlyMap<string, string>): string {
  if (used.size === 0) return message;
  const hidden: Array<[string, string]> = [];
  for (const [name, text] of used) {
    if (text === '') continue;
    hidden.push([JSON.stringify(text), name]);
    if (text.length >= MIN_HIDDEN) hidden.push([text, name]);
  }
  // Longest first: a token that contains a shorter variable's text is replaced whole.
  hidden.sort((a, b) => b[0].length - a[0].length);
  let out = message;
  for (const [text, name] of hidden) out = out.split(text).join(`(from \${${name}})`);
  return out;
}
