/**
 * `models`: the champion and the challenger, each an http(s) endpoint with a version, and what is
 * particular to calling it: its own paths, headers and trusted CA (docs/config.md#models-the-champion-and-the-challenger-both-required).
 */
import { setOwn } from '../../util/json-pointer.js';
import { readPemCertificates } from '../../util/pem.js';
import { joinPath } from '../issues.js';
import { REQUIRED, type Section } from '../reader.js';
import type { Config, ModelConfig, Role, RouteConfig } from '../types.js';
import { DEFAULTS, TOKEN, type Built } from './rules.js';

const KEYS = {
  models: ['champion', 'challenger'],
  model: ['url', 'version', 'timeoutMs', 'threshold', 'headers', 'paths', 'ca'],
} as const;

/**
 * Headers ccrouter owns on every call: those of the connection (undici refuses several of them),
 * the ones it computes, and the role marker a model may rely on.
 */
const RESERVED_HEADERS = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect',
  'host', 'content-length', 'x-ccrouter-role',
]);
// What Node lets through as a header value: no control bytes but tab.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
// A path a request line can carry: starts with "/", no whitespace, query or fragment (control bytes: below).
const PATH = /^\/[^\s?#]*$/;

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** `routes` (undefined when they failed to read): a `paths` entry must name a scored route's path. */
export function readModels(root: Section, routes: readonly RouteConfig[] | undefined): Built<Config['models']> | undefined {
  const s = root.section('models', KEYS.models);
  if (root.has('models') && !s.present) return undefined; // not a mapping: already reported
  const scored = routes === undefined ? undefined : new Set(routes.map((r) => r.path));
  const champion = model(s, 'champion', scored);
  const challenger = model(s, 'challenger', scored);
  return champion === undefined || challenger === undefined ? undefined : { champion, challenger };
}

function model(parent: Section, role: Role, scored: ReadonlySet<string> | undefined): Built<ModelConfig> | undefined {
  if (!parent.has(role)) return parent.problem(parent.at(role), 'is required');
  const s = parent.section(role, KEYS.model);
  if (!s.present) return undefined; // not a mapping: already reported
  const written = s.str('url', REQUIRED);
  const url = written === undefined ? undefined : checkUrl(s, written);
  const version = s.str('version', REQUIRED, true);
  const timeoutMs = s.duration('timeoutMs', DEFAULTS.timeoutMs, 1);
  const threshold = s.num('threshold');
  const headers = s.has('headers') ? readHeaders(s.section('headers', null)) : undefined;
  const paths = s.has('paths') ? readPaths(s.section('paths', null), scored) : undefined;
  const ca = readCa(s, url);
  if (url === undefined || version === undefined || timeoutMs === undefined) return undefined;
  if ((s.has('headers') && headers === undefined) || (s.has('paths') && paths === undefined) || (s.has('ca') && ca === undefined)) return undefined;
  return { url, version, timeoutMs, threshold, headers, paths, ca };
}

/** Report a problem; false, for the caller's "every entry was good". */
function bad(s: Section, path: string, message: string): false {
  s.problem(path, message);
  return false;
}

/** name → value (null: remove the caller's header); names are tokens, stored lower-cased. */
function readHeaders(h: Section): Record<string, string | null> | undefined {
  if (!h.present) return undefined; // not a mapping: already reported
  const out: Record<string, string | null> = {};
  const spelled = new Map<string, string>();
  let ok = true;
  for (const name of h.keys()) {
    const p = h.at(name);
    const lower = name.toLowerCase();
    const value = h.raw(name);
    if (!TOKEN.test(name)) {
      ok = bad(h, p, `is not a valid header name (letters, digits and !#$%&'*+.^_\`|~- only)`);
    } else if (RESERVED_HEADERS.has(lower)) {
      ok = bad(h, p, 'cannot be set or removed: ccrouter sets this header on every call itself');
    } else if (spelled.has(lower)) {
      ok = bad(h, p, `names the same header as ${joinPath(h.path, spelled.get(lower)!)} (header names ignore case)`);
    } else if (value !== null && typeof value !== 'string') {
      ok = bad(h, p, `must be a string, or null to remove the caller's header, got ${h.describe(value, p)}`);
    } else if (value !== null && !HEADER_VALUE.test(value)) {
      ok = bad(h, p, `must not contain control characters (CR, LF, NUL...), got ${h.quote(value, p)}`);
    } else {
      spelled.set(lower, name);
      setOwn(out, lower, value);
    }
  }
  return ok ? out : undefined;
}

/** Scored route path → this model's path; every key must be the path of a scored route. */
function readPaths(m: Section, scored: ReadonlySet<string> | undefined): Record<string, string> | undefined {
  if (!m.present) return undefined; // not a mapping: already reported
  const out: Record<string, string> = {};
  let ok = true;
  for (const from of m.keys()) {
    const p = m.at(from);
    const to = m.raw(from);
    if (scored !== undefined && !scored.has(from)) {
      const known = [...scored].map((x) => JSON.stringify(x)).join(', ');
      ok = bad(m, p, `is not the path of a scored route (routes have ${known})`);
    } else if (typeof to !== 'string') {
      ok = bad(m, p, `must be a path string, got ${m.describe(to, p)}`);
    } else if (!PATH.test(to) || hasControl(to)) {
      ok = bad(m, p, `must be a path starting with "/", without spaces, query or fragment, got ${m.quote(to, p)}`);
    } else {
      setOwn(out, from, to);
    }
  }
  return ok ? out : undefined;
}

/** The CA file's path as written, once it was read and holds at least one PEM certificate. */
function readCa(s: Section, url: string | undefined): string | undefined {
  const file = s.str('ca', undefined, true);
  if (file === undefined) return undefined;
  const p = s.at('ca');
  if (url !== undefined && !url.toLowerCase().startsWith('https:')) return s.problem(p, `applies to an https model only, but ${s.at('url')} is not https`);
  try {
    readPemCertificates(file);
  } catch (err) {
    return s.problem(p, (err as Error).message);
  }
  return file;
}

function checkUrl(s: Section, url: string): string | undefined {
  const p = s.at('url');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return s.problem(p, `must be an http(s) URL, got ${s.quote(url, p)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return s.problem(p, `must be an http(s) URL, got ${s.quote(url, p)}`);
  // The raw string is checked too: `new URL` drops an empty "?" or "#", but the user still wrote one.
  if (u.username !== '' || u.password !== '' || /^[a-z]+:\/\/[^/?#]*@/i.test(url)) return s.problem(p, 'must not carry credentials');
  if (u.search !== '' || url.includes('?')) return s.problem(p, 'must not carry a query');
  if (u.hash !== '' || url.includes('#')) return s.problem(p, 'must not carry a fragment');
  return url;
}
