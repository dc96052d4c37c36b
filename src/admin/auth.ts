/** Bearer-token check for admin mutations (SPEC 7), in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';

export type AuthResult = 'ok' | 'unauthorized' | 'forbidden';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * `forbidden` when no token is configured (an admin API nobody can use rather than one anybody can);
 * `unauthorized` for a missing, malformed or wrong token. Both sides are hashed first so the
 * comparison time depends on neither the token's length nor its content.
 */
export function checkBearer(header: string | undefined, expected: string | undefined): AuthResult {
  if (!expected) return 'forbidden';
  if (typeof header !== 'string') return 'unauthorized';
  const m = /^bearer[ \t]+(.+?)[ \t]*$/i.exec(header);
  if (!m) return 'unauthorized';
  return timingSafeEqual(digest(m[1]!), digest(expected)) ? 'ok' : 'unauthorized';
}
