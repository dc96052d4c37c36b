/** JSON Pointer (RFC 6901): parse once, resolve many times. */

/**
 * `obj[key] = value` as an own member, for keys that come from data: "__proto__" is an ordinary
 * key in JSON, but an assignment would set the object's prototype instead (and drop the member).
 */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

export type Pointer = readonly string[];

/** Parse a pointer string into reference tokens; throws a message naming what is wrong. */
export function parsePointer(pointer: string): Pointer {
  if (pointer === '') return [];
  if (pointer[0] !== '/') throw new Error(`must be a JSON Pointer starting with "/", got ${JSON.stringify(pointer)}`);
  const tokens = pointer.slice(1).split('/');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (/~(?![01])/.test(t)) throw new Error(`invalid escape in JSON Pointer ${JSON.stringify(pointer)} ("~" must be followed by 0 or 1)`);
    tokens[i] = t.replace(/~1/g, '/').replace(/~0/g, '~');
  }
  return tokens;
}

/** The pointer string for reference tokens: the inverse of parsePointer (`["a/b"]` → `/a~1b`). */
export function formatPointer(pointer: Pointer): string {
  let out = '';
  for (const t of pointer) out += '/' + t.replace(/~/g, '~0').replace(/\//g, '~1');
  return out;
}

/** The value at `pointer` in `doc`, or undefined when any step is missing. */
export function resolvePointer(doc: unknown, pointer: Pointer): unknown {
  let cur: unknown = doc;
  for (const token of pointer) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
      cur = cur[Number(token)];
    } else if (cur !== null && typeof cur === 'object') {
      if (!Object.prototype.hasOwnProperty.call(cur, token)) return undefined;
      cur = (cur as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
  }
  return cur;
}

/**
 * Set the value at `pointer`, creating objects on the way; returns false when a step goes through
 * a non-container or an array index that does not exist (or `-`, which appends).
 */
export function setPointer(doc: unknown, pointer: Pointer, value: unknown): boolean {
  if (pointer.length === 0 || doc === null || typeof doc !== 'object') return false;
  let cur = doc as Record<string, unknown> | unknown[];
  for (let i = 0; i < pointer.length; i++) {
    const token = pointer[i]!;
    const last = i === pointer.length - 1;
    if (Array.isArray(cur)) {
      const idx = token === '-' ? cur.length : /^(0|[1-9][0-9]*)$/.test(token) ? Number(token) : -1;
      if (idx < 0 || idx > cur.length) return false;
      if (last) { cur[idx] = value; return true; }
      if (cur[idx] === undefined) cur[idx] = {};
      const next = cur[idx];
      if (next === null || typeof next !== 'object') return false;
      cur = next as Record<string, unknown> | unknown[];
    } else {
      if (last) { setOwn(cur, token, value); return true; }
      if (!Object.prototype.hasOwnProperty.call(cur, token)) setOwn(cur, token, {});
      const next = cur[token];
      if (next === null || typeof next !== 'object') return false;
      cur = next as Record<string, unknown> | unknown[];
    }
  }
  return false;
}
