/** Reading a model's score from its response body (docs/config.md#routes-the-scored-routes-at-least-one). */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Preset, RouteConfig } from '../config/types.js';
import { formatPointer, parsePointer, resolvePointer, type Pointer } from '../util/json-pointer.js';

export const PRESET_POINTERS: Readonly<Record<Preset, string>> = Object.freeze({
  'kserve-v2': '/outputs/0/data',
  tfserving: '/predictions/0',
  mlflow: '/predictions/0',
});

/** The pointer a route reads its score from. */
export function scorePointer(route: Pick<RouteConfig, 'score' | 'preset'>): Pointer {
  return parsePointer(route.score ?? PRESET_POINTERS[route.preset!]);
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const brotli = promisify(zlib.brotliDecompress);

/** The content-encodings decoded; any other is passed on as is. */
const DECODERS: ReadonlyMap<string, (body: Buffer, options: zlib.ZlibOptions | zlib.BrotliOptions) => Promise<Buffer>> = new Map([
  ['gzip', gunzip],
  ['x-gzip', gunzip],
  ['deflate', inflate],
  ['br', brotli],
]);

const decoderFor = (encoding: string | undefined) => (encoding === undefined ? undefined : DECODERS.get(encoding.trim().toLowerCase()));

/** Whether decodeBody would change a body with this content-encoding. */
export function needsDecoding(encoding: string | undefined): boolean {
  return decoderFor(encoding) !== undefined;
}

/**
 * Decode a body per its content-encoding (gzip, deflate, br); other encodings are returned as is.
 * The decoded body is bounded by `maxBytes` as the received one is (`limits.responseBytes`): a few
 * KiB of gzip can expand to gigabytes. Beyond it, rejects with a `DecodedTooLarge`.
 */
export async function decodeBody(body: Buffer, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  const decode = decoderFor(encoding);
  if (decode === undefined || body.length === 0) return body;
  try {
    return await decode(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new DecodedTooLarge(encoding!, maxBytes);
    throw err;
  }
}

/** A compressed answer whose decoded body would pass `limits.responseBytes`. */
export class DecodedTooLarge extends Error {
  override name = 'DecodedTooLarge';
  constructor(encoding: string, maxBytes: number) {
    super(`the ${encoding} answer decodes to more than limits.responseBytes (${maxBytes} bytes)`);
  }
}

export type ScoreResult = { ok: true; score: number; json: unknown } | { ok: false; message: string };

/**
 * The score at `pointer` in a JSON body. An array of numbers yields its last element (the positive
 * class of a two-class output). Anything else is a parse failure with a message saying why.
 */
export function readScore(body: Buffer, pointer: Pointer): ScoreResult {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, message: 'response body is not JSON' };
  }
  return readScoreFrom(json, pointer);
}

/** The score at `pointer` in an answer already parsed (see readScore). */
export function readScoreFrom(json: unknown, pointer: Pointer): ScoreResult {
  let value = resolvePointer(json, pointer);
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number')) {
    value = value[value.length - 1];
  }
  if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, score: value, json };
  return {
    ok: false,
    message: value === undefined ? `no value at ${formatPointer(pointer)}` : `value at ${formatPointer(pointer)} is not a number`,
  };
}
