import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { decodeBody, DecodedTooLarge, needsDecoding } from '../../src/scoring/score.js';

const MAX = 1 << 20;

test('decodeBody: gzip, x-gzip, deflate and br decoded, names case- and space-insensitive', async () => {
  const json = Buffer.from('{"score":0.7}');
  assert.equal((await decodeBody(zlib.gzipSync(json), ' GZip ', MAX)).toString(), '{"score":0.7}');
  assert.equal((await decodeBody(zlib.gzipSync(json), 'x-gzip', MAX)).toString(), '{"score":0.7}');
  assert.equal((await decodeBody(zlib.deflateSync(json), 'deflate', MAX)).toString(), '{"score":0.7}');
  assert.equal((await decodeBody(zlib.brotliCompressSync(json), 'br', MAX)).toString(), '{"score":0.7}');
});

test('decodeBody: other encodings, and names of object properties, pass the body on as is', async () => {
  const body = Buffer.from('{"score":0.7}');
  for (const e of [undefined, '', 'identity', 'zstd', 'constructor', '__proto__', 'toString']) {
    assert.equal(needsDecoding(e), false, String(e));
    assert.equal(await decodeBody(body, e, MAX), body, String(e));
  }
  assert.equal(needsDecoding('gzip'), true);
});

test('decodeBody: a compressed answer that decodes past the bound is refused, whatever the encoding', async () => {
  const bomb = Buffer.alloc(4 << 20); // 4 MiB of zeros: a few KiB compressed
  for (const [encoding, packed] of [['gzip', zlib.gzipSync(bomb)], ['deflate', zlib.deflateSync(bomb)], ['br', zlib.brotliCompressSync(bomb)]] as const) {
    assert.ok(packed.length < 64 * 1024, encoding);
    await assert.rejects(decodeBody(packed, encoding, MAX), (err: Error) =>
      err instanceof DecodedTooLarge && err.message === `the ${encoding} answer decodes to more than limits.responseBytes (${MAX} bytes)`);
    assert.equal((await decodeBody(packed, encoding, bomb.length)).length, bomb.length, `${encoding} at the bound`);
  }
});
