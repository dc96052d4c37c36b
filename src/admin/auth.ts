/** Bearer-token check for admin mutations (docs/operations.md#the-admin-listener), in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';

export type AuthResult = 'ok' | 'unauthorized' | 'forbidden';

/**
 * Longer `Authorization` values are refused before they are looked at: no real bearer token is this
 * long, and every step below stays bounded by it.
 */
export const MAX_AUTHORIZATION_CHARS = 4096;

const SCHEME = 'bearer';
const isBlank = (c: number) => c === 0x20 || c === 0x09;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * The token of `Bearer <token>` (scheme case-insensitive, spaces or tabs after it, trailing ones
 * dropped), or null. One pass over the value at most: no backtracking, whatever the caller sends.
 */
export function bearerToken(header: string): string | null {
  if (header.length > MAX_AUTHORIZATION_CHARS || header.length <= SCHEME.length) return null;
  if (header.slice(0, SCHEME.length).toLowerCase() !== SCHEME || !isBlank(header.charCodeAt(SCHEME.length))) return null;
  let start = SCHEME.length + 1;
  while (start < header.length && isBlank(header.charCodeAt(start))) start++;
  let end = header.length;
  while (end > start && isBlank(header.charCodeAt(end - 1))) end--;
  return end > start ? header.slice(start, end) : null;
}

/**
 * `forbidden` when no token is configured (an admin API nobody can use rather than one anybody can);
 * `unauthorized` for a missing, malformed or wrong token. Both sides are hashed first so the
 * comparison time depends on neither the token's length nor its content.
 */
export function checkBearer(header: string | undefined, expected: string | undefined): AuthResult {
  if (!expected) return 'forbidden';
  if (typeof header !== 'string') return 'unauthorized';
  const token = bearerToken(header);
  if (token === null) return 'unauthorized';
  return timingSafeEqual(digest(token), digest(expected)) ? 'ok' : 'unauthorized';
}
