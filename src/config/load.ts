/** Reading a config: file → YAML/JSON data → `${VAR}` substituted → validated, with its id. */
import { createHash } from 'node:crypto';
import { readConfigText } from './bounds.js';
import { hideEnv, substituteEnvTracked, type Env, type Substituted } from './env.js';
import { configId } from './id.js';
import { NO_SOURCES, configInvalid, isConfigInvalid, type EnvSources } from './issues.js';
import { validateConfig } from './schema.js';
import type { LoadedConfig } from './types.js';
import { parseConfigText } from './yaml.js';

export { parseConfigText } from './yaml.js';
export { substituteEnv } from './env.js';

/** A loaded config with where its values came from: `check` masks those from the environment. */
export interface ReadConfig {
  loaded: LoadedConfig;
  sources: EnvSources;
  /** Every variable substituted, name → its text: to hide them in messages built elsewhere. */
  used: ReadonlyMap<string, string>;
}

/**
 * Validate a config built in code (the demo, tests). With `env`, `${VAR}` references are substituted
 * first; without it the object is taken as is, so the process environment never leaks in by accident.
 */
export function loadConfigObject(raw: unknown, env?: Env): LoadedConfig {
  return fromData(raw, env).loaded;
}

function fromData(raw: unknown, env: Env | undefined): ReadConfig {
  const sub: Substituted = env === undefined
    ? { value: raw, sources: NO_SOURCES, used: new Map() }
    : substituteEnvTracked(raw, env);
  let config;
  try {
    config = validateConfig(sub.value, sub.sources);
  } catch (err) {
    // Messages name a value from the environment by its source; this catches any that slipped through.
    if (isConfigInvalid(err) && sub.used.size > 0) {
      throw configInvalid(err.issues.map((i) => ({ path: i.path, message: hideEnv(i.message, sub.used) })));
    }
    throw err;
  }
  return { loaded: { config, id: configId(config) }, sources: sub.sources, used: sub.used };
}

/**
 * Read, substitute and validate a config file within the bounds of bounds.ts (synchronously:
 * start-up and `check` need it whole; a running proxy reloads off its event loop, off-thread.ts).
 * Throws CCR_ERR_CONFIG_READ (missing, unreadable, too large, bad YAML) or CCR_ERR_CONFIG_INVALID,
 * both naming the file's absolute path; `file` in the result is that path.
 */
export function readConfigFile(file: string, env: Env = process.env): ReadConfig {
  const { text, abs } = readConfigText(file);
  try {
    const read = fromData(parseConfigText(text, abs), env);
    return { ...read, loaded: { ...read.loaded, file: abs, digest: createHash('sha256').update(text).digest('hex') } };
  } catch (err) {
    if (isConfigInvalid(err)) throw Object.assign(configInvalid(err.issues, abs), { cause: err });
    throw err;
  }
}

/** readConfigFile without the sources: what `serve` starts with. */
export function loadConfigFile(file: string, env: Env = process.env): LoadedConfig {
  return readConfigFile(file, env).loaded;
}
