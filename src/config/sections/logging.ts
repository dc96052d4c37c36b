/** `logging`: where records go, what they hold of the request, and how files rotate. */
import { setOwn } from '../../util/json-pointer.js';
import { joinPath } from '../issues.js';
import { REQUIRED, type Section } from '../reader.js';
import { LOGGED_UNITS, type LoggingConfig, type RotateConfig } from '../types.js';
import { POSITIVE_INT, allRead, type Built } from './rules.js';

const KEYS = {
  logging: ['dir', 'unit', 'fields', 'bodies', 'redact', 'rotate'],
  rotate: ['size', 'keep'],
} as const;

export function readLogging(root: Section): Built<LoggingConfig> | undefined {
  const s = root.section('logging', KEYS.logging);
  const fields = readFields(s.section('fields', null));
  const redact = allRead(s.list('redact', [])?.map((p, i) => s.checkPointer(p, joinPath(s.at('redact'), i), true)));
  const r = s.section('rotate', KEYS.rotate);
  const dir = s.str('dir', './logs', true);
  const unit = s.oneOf('unit', LOGGED_UNITS, 'raw');
  const bodies = s.bool('bodies', false);
  const rotate = r.present ? readRotate(r) : undefined;
  if (dir === undefined || unit === undefined || fields === undefined || bodies === undefined || redact === undefined) return undefined;
  return { dir, unit, fields, bodies, redact, rotate };
}

/** name → JSON Pointer; undefined when any pointer is invalid (each one reported). */
function readFields(f: Section): Record<string, string> | undefined {
  const fields: Record<string, string> = {};
  let ok = true;
  for (const key of f.keys()) {
    const pointer = f.pointer(key);
    if (pointer === undefined) ok = false;
    // A field named "__proto__" must stay a field.
    else setOwn(fields, key, pointer);
  }
  return ok ? fields : undefined;
}

function readRotate(r: Section): Built<RotateConfig> | undefined {
  const size = r.size('size', REQUIRED);
  const keep = r.num('keep', undefined, POSITIVE_INT);
  return size === undefined ? undefined : { size, keep };
}
