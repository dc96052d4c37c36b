/** The two listeners (`listen`, `admin`) and the public one's `limits`. */
import type { Section } from '../reader.js';
import type { AdminConfig, Endpoint, LimitsConfig } from '../types.js';
import { DEFAULTS, PORT, type Built } from './rules.js';

const KEYS = {
  listen: ['host', 'port'],
  admin: ['host', 'port', 'tokenEnv'],
  limits: ['bodyBytes', 'responseBytes', 'headersTimeoutMs', 'requestTimeoutMs'],
} as const;

/** `listen` and `admin`, read together: the admin port must not take the public one. */
export function readListeners(root: Section): { listen: Built<Endpoint> | undefined; admin: Built<AdminConfig> | undefined } {
  const l = root.section('listen', KEYS.listen);
  const listenHost = l.str('host', DEFAULTS.listen.host, true);
  const listenPort = l.num('port', DEFAULTS.listen.port, PORT);
  const a = root.section('admin', KEYS.admin);
  const host = a.str('host', DEFAULTS.admin.host, true);
  const port = a.num('port', DEFAULTS.admin.port, PORT);
  // No tokenEnv means no token: the admin mutations then answer 403.
  const tokenEnv = a.str('tokenEnv', undefined, true);
  if (port !== undefined && port !== 0 && port === listenPort && sameInterface(host, listenHost)) {
    a.problem('admin.port', `must differ from listen.port (${a.quote(listenPort, 'listen.port')}) on the same host`);
  }
  return {
    listen: listenHost === undefined || listenPort === undefined ? undefined : { host: listenHost, port: listenPort },
    admin: host === undefined || port === undefined ? undefined : { host, port, tokenEnv },
  };
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** Whether two hosts may share an interface; a host that failed its read may. */
function sameInterface(a: string | undefined, b: string | undefined): boolean {
  return a === undefined || b === undefined || a === b || WILDCARDS.has(a) || WILDCARDS.has(b);
}

export function readLimits(root: Section): Built<LimitsConfig> | undefined {
  const s = root.section('limits', KEYS.limits);
  const bodyBytes = s.size('bodyBytes', DEFAULTS.bodyBytes);
  const responseBytes = s.size('responseBytes', DEFAULTS.responseBytes);
  const headersTimeoutMs = s.duration('headersTimeoutMs', DEFAULTS.headersTimeoutMs, 1);
  const requestTimeoutMs = s.duration('requestTimeoutMs', DEFAULTS.requestTimeoutMs, 1);
  if (headersTimeoutMs !== undefined && requestTimeoutMs !== undefined && headersTimeoutMs > requestTimeoutMs) {
    s.problem(s.at('headersTimeoutMs'), `must be <= limits.requestTimeoutMs (${s.quote(requestTimeoutMs, s.at('requestTimeoutMs'))}), got ${s.quote(headersTimeoutMs, s.at('headersTimeoutMs'))}`);
  }
  if (bodyBytes === undefined || responseBytes === undefined || headersTimeoutMs === undefined || requestTimeoutMs === undefined) return undefined;
  return { bodyBytes, responseBytes, headersTimeoutMs, requestTimeoutMs };
}
