/** `models`: the champion and the challenger, each an http(s) endpoint with a version. */
import { REQUIRED, type Section } from '../reader.js';
import type { Config, ModelConfig, Role } from '../types.js';
import { DEFAULTS, type Built } from './rules.js';

const KEYS = {
  models: ['champion', 'challenger'],
  model: ['url', 'version', 'timeoutMs', 'threshold'],
} as const;

export function readModels(root: Section): Built<Config['models']> | undefined {
  const s = root.section('models', KEYS.models);
  if (root.has('models') && !s.present) return undefined; // not a mapping: already reported
  const champion = model(s, 'champion');
  const challenger = model(s, 'challenger');
  return champion === undefined || challenger === undefined ? undefined : { champion, challenger };
}

function model(parent: Section, role: Role): Built<ModelConfig> | undefined {
  if (!parent.has(role)) return parent.problem(parent.at(role), 'is required');
  const s = parent.section(role, KEYS.model);
  if (!s.present) return undefined; // not a mapping: already reported
  const written = s.str('url', REQUIRED);
  const url = written === undefined ? undefined : checkUrl(s, written);
  const version = s.str('version', REQUIRED, true);
  const timeoutMs = s.duration('timeoutMs', DEFAULTS.timeoutMs, 1);
  const threshold = s.num('threshold');
  if (url === undefined || version === undefined || timeoutMs === undefined) return undefined;
  return { url, version, timeoutMs, threshold };
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
