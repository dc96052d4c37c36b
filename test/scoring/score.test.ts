import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { decodeBody, needsDecoding } from '../../src/scoring/score.js';

test('decodeBody: gzip, x-gzip, deflate and br decoded, names case- and space-insensitive', async () => {
  const json = Buffer.from('{"score":0.7}');
  assert.equal((await decodeBody(zlib.gzipSync(json), ' GZip ')).toString(), '{"score":0.7}');
  assert.equal((await decodeBody(zlib.gzipSync(json), 'x-gzip')).toString(), '{"score":0.7}');
  assert.equal((await decodeBody(zlib.deflateSync(json), 'deflate')).toString(), '{"score":0.7}');
  assert.equal((await decodeBody(zlib.brotliCompressSync(json), 'br')).toString(), '{"score":0.7}');
});

test('decodeBody: other encodings, and names of object properties, pass the body on as is', async () => {
  const body = Buffer.from('{"score":0.7}');
  for (const e of [undefined, '', 'identity', 'zstd', 'constructor', '__proto__', 'toString']) {
    assert.equal(needsDecoding(e), false, String(e));
    assert.equal(await decodeBody(body, e), body, String(e));
  }
  assert.equal(needsDecoding('gzip'), true);
});
