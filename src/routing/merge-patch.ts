/**
 * JSON Merge Patch (RFC 7396), returning a new value; `target` is not modified. Every member name is
 * an ordinary key, "__proto__" included: it is applied as a member, never as the prototype.
 */
import { setOwn } from '../util/json-pointer.js';

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  // Spread defines own members (an own "__proto__" stays a member).
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete out[key];
    else setOwn(out, key, mergePatch(Object.prototype.hasOwnProperty.call(out, key) ? out[key] : undefined, value));
  }
  return out;
}
