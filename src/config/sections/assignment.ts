/** `assignment`: which request attribute keeps a caller in one group, and the hash's salt and seed. */
import type { Section } from '../reader.js';
import type { AssignmentConfig } from '../types.js';
import { TOKEN, type Built } from './rules.js';

const KEYS = { assignment: ['unit', 'salt', 'seed'] } as const;

export function readAssignment(root: Section): Built<AssignmentConfig> | undefined {
  const s = root.section('assignment', KEYS.assignment);
  const u = unit(s);
  const salt = s.str('salt', '');
  const seed = readSeed(s);
  return u === undefined || salt === undefined ? undefined : { unit: u, salt, seed };
}

function unit(s: Section): string | undefined {
  const spec = s.str('unit', 'none');
  if (spec === undefined || spec === 'none') return spec;
  const p = s.at('unit');
  const colon = spec.indexOf(':');
  const kind = spec.slice(0, colon);
  const rest = spec.slice(colon + 1);
  if (kind === 'header' || kind === 'query') {
    if (rest === '') return s.problem(p, `needs a name after "${kind}:", as in ${kind}:${kind === 'header' ? 'x-user-id' : 'user'}`);
    if (kind === 'header' && !TOKEN.test(rest)) {
      const name = s.source(p) === undefined ? `header name ${JSON.stringify(rest)}` : `the header name in ${s.quote(spec, p)}`;
      return s.problem(p, `${name} is not a valid HTTP header name`);
    }
    // Node lower-cases incoming header names, so the lookup key must be lower case too.
    return kind === 'header' ? `header:${rest.toLowerCase()}` : spec;
  }
  if (kind === 'body') return s.checkPointer(rest, p, true) === undefined ? undefined : spec;
  return s.problem(p, `must be header:NAME, query:NAME, body:/json/pointer or none, got ${s.quote(spec, p)}`);
}

function readSeed(s: Section): string | number | undefined {
  const v = s.raw('seed');
  if (v === undefined || typeof v === 'string') return v;
  if (typeof v === 'number') return s.checkNumber(v, s.at('seed'), {});
  return s.problem(s.at('seed'), `must be a string or a number, got ${s.describe(v, s.at('seed'))}`);
}
