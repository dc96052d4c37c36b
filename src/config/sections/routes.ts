/** `routes`: the scored routes, each a method and path with where its score is. */
import { joinPath } from '../issues.js';
import { REQUIRED, type Section } from '../reader.js';
import { PRESETS, type RouteConfig } from '../types.js';
import { TOKEN, allRead, type Built } from './rules.js';

const KEYS = { route: ['method', 'path', 'score', 'preset', 'instances'] } as const;

export function readRoutes(root: Section): readonly RouteConfig[] | undefined {
  const list = root.list('routes', REQUIRED);
  if (list === undefined) return undefined;
  if (list.length === 0) return root.problem('routes', 'must list at least one route');
  const seen = new Map<string, number>();
  return allRead(list.map((item, i) => {
    const path = joinPath('routes', i);
    const r = route(root.sub(item, path, KEYS.route));
    if (r !== undefined) {
      const key = JSON.stringify([r.method, r.path]);
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else root.problem(path, `duplicates routes[${first}] (${root.bare(r.method, joinPath(path, 'method'))} ${root.bare(r.path, joinPath(path, 'path'))})`);
    }
    return r;
  }));
}

function route(s: Section): Built<RouteConfig> | undefined {
  if (!s.present) return undefined; // not a mapping: already reported
  const method = s.str('method', 'POST', true);
  if (method !== undefined && !TOKEN.test(method)) s.problem(s.at('method'), `must be an HTTP method, got ${s.quote(method, s.at('method'))}`);
  const path = s.str('path', REQUIRED);
  if (path !== undefined && !path.startsWith('/')) s.problem(s.at('path'), 'must start with "/"');
  else if (path !== undefined && /[?#]/.test(path)) s.problem(s.at('path'), 'must not carry a query or fragment (matching ignores the query)');
  const score = s.pointer('score');
  const preset = s.oneOf('preset', PRESETS);
  if (s.has('score') === s.has('preset')) s.problem(s.path, 'needs exactly one of score or preset');
  // A batch route (docs/requests.md#batches): "" is allowed, a request body that is itself the array.
  const instances = s.pointer('instances');
  if (s.has('instances') && s.has('preset')) s.problem(s.at('instances'), 'only with score: a preset knows where its instances are');
  if (method === undefined || path === undefined) return undefined;
  return { method: method.toUpperCase(), path, score, preset, instances };
}
