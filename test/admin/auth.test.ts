import { test } from 'node:test';
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import { bearerToken, checkBearer, MAX_AUTHORIZATION_CHARS } from '../../src/admin/auth.js';

test('bearerToken: scheme in any case, spaces or tabs after it, trailing blanks dropped, inner ones kept', () => {
  assert.equal(bearerToken('Bearer abc'), 'abc');
  assert.equal(bearerToken('bEaReR \t abc \t '), 'abc');
  assert.equal(bearerToken('Bearer\tabc'), 'abc');
  assert.equal(bearerToken('Bearer a b'), 'a b');
  for (const bad of ['', 'Bearer', 'Bearer ', 'Bearer \t ', 'Bearerabc', 'Basic abc', 'abc', ' Bearer abc', 'Bearer\u00a0abc']) {
    assert.equal(bearerToken(bad), null, JSON.stringify(bad));
  }
});

test('quadratic bearer regex: 16 000 spaces between two characters are read in one pass, and refused over the bound', () => {
  // The old /^bearer[ \t]+(.+?)[ \t]*$/i backtracked over every space for every start position.
  assert.equal(bearerToken(`Bearer x${' '.repeat(16_000)}y`), null, 'over MAX_AUTHORIZATION_CHARS: refused unread');
  const inner = `x${' '.repeat(MAX_AUTHORIZATION_CHARS - 10)}y`;
  assert.equal(bearerToken(`Bearer ${inner}`), inner);
  assert.equal(bearerToken(`Bearer ${' '.repeat(MAX_AUTHORIZATION_CHARS - 8)}x`), 'x');
  assert.equal(bearerToken(`Bearer x${' '.repeat(MAX_AUTHORIZATION_CHARS - 8)}`), 'x');
  assert.equal(checkBearer(`Bearer x${' '.repeat(16_000)}y`, 'x'), 'unauthorized');
});

test('bearerToken reads short headers as the former regex did, but for a blank token (seeded fuzz)', () => {
  const rng = seedrandom('bearer');
  const alphabet = ['b', 'B', 'e', 'E', 'a', 'r', 'R', ' ', '\t', 'x', 'y', '\u00a0', '='];
  for (let i = 0; i < 20_000; i++) {
    const prefix = rng() < 0.7 ? ['Bearer', 'bearer', 'BEARER', 'Bearer ', 'bearer\t'][Math.floor(rng() * 5)]! : '';
    let h = prefix;
    const n = Math.floor(rng() * 12);
    for (let k = 0; k < n; k++) h += alphabet[Math.floor(rng() * alphabet.length)];
    const old = /^bearer[ \t]+(.+?)[ \t]*$/i.exec(h)?.[1] ?? null;
    // The regex took `Bearer  ` (two blanks) for the token " "; a blank token is now no token.
    const expected = old !== null && /^[ \t]+$/.test(old) ? null : old;
    assert.equal(bearerToken(h), expected, JSON.stringify(h));
  }
});

test('checkBearer: forbidden without a configured token, unauthorized for anything but the token', () => {
  assert.equal(checkBearer('Bearer t', undefined), 'forbidden');
  assert.equal(checkBearer('Bearer t', ''), 'forbidden');
  assert.equal(checkBearer(undefined, 't'), 'unauthorized');
  assert.equal(checkBearer('Bearer u', 't'), 'unauthorized');
  assert.equal(checkBearer('Bearer t', 't'), 'ok');
  assert.equal(checkBearer(`Bearer ${'t'.repeat(MAX_AUTHORIZATION_CHARS)}`, 't'.repeat(MAX_AUTHORIZATION_CHARS)), 'unauthorized');
});
