/** Reading the probe's sample request bodies: a JSON array of objects, or NDJSON (one object a line). */
import { CCR_ERR_INPUT } from '../errors.js';
import { readTextFile } from '../util/read-text.js';
import type { JsonObject } from './perturb.js';

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Read and check a samples file. Throws CCR_ERR_INPUT naming the file's absolute path and, for
 * NDJSON, the line (for a JSON array, the line of a syntax error and the index of a bad item).
 */
export function readSamples(file: string): JsonObject[] {
  const { text, abs } = readTextFile(file, 'samples', (message, cause) => new CCR_ERR_INPUT(message, { cause }));
  return parseSamples(text.replace(/^\uFEFF/, ''), abs);
}

/** Parse samples text; `source` names it in errors. */
export function parseSamples(text: string, source: string): JsonObject[] {
  // A file that starts with "[" is a JSON array: a syntax error in it is reported as such, with its
  // line, instead of as NDJSON line 1 ("[") being invalid.
  if (text.trimStart().startsWith('[')) return parseArray(text, source);
  // One pretty-printed object spread over lines is a single sample, not broken NDJSON.
  const whole = tryParse(text);
  if (isObject(whole)) return [whole];
  const samples: JsonObject[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new CCR_ERR_INPUT(`samples ${source} line ${i + 1}: not valid JSON (${reasonOf(err as Error)}); expected a JSON array of objects or one JSON object per line`, { cause: err });
    }
    if (!isObject(value)) throw new CCR_ERR_INPUT(`samples ${source} line ${i + 1}: expected a JSON object, got ${describe(value)}`);
    samples.push(value);
  }
  if (samples.length === 0) throw new CCR_ERR_INPUT(`samples ${source}: no samples (expected a JSON array of objects or one JSON object per line)`);
  return samples;
}

function parseArray(text: string, source: string): JsonObject[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const line = lineOf(text, err as Error);
    throw new CCR_ERR_INPUT(`samples ${source}${line === null ? '' : ` line ${line}`}: not valid JSON (${reasonOf(err as Error)})`, { cause: err });
  }
  const items = value as unknown[];
  if (items.length === 0) throw new CCR_ERR_INPUT(`samples ${source}: the array is empty`);
  items.forEach((item, i) => {
    if (!isObject(item)) throw new CCR_ERR_INPUT(`samples ${source}: item ${i} is ${describe(item)}, expected a JSON object`);
  });
  return items as JsonObject[];
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The 1-based line of a JSON.parse error in `text`, or null when it cannot be told. */
function lineOf(text: string, err: Error): number | null {
  const pos = errorOffset(text, err.message);
  if (pos === null) return null;
  // An error at the very end (unclosed array) belongs to the last line with text, not a trailing blank one.
  const end = Math.min(pos, text.trimEnd().length);
  let line = 1;
  for (let i = 0; i < end; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

// Node 20's JSON.parse gives no line: either "at position N", or the token with up to this many
// characters of text quoted on each side (`Unexpected token 'x', ..."ab x cd"... is not valid JSON`).
const CONTEXT_CHARS = 10;

function errorOffset(text: string, message: string): number | null {
  const at = /at position (\d+)/.exec(message);
  if (at !== null) return Number(at[1]);
  if (message.startsWith('Unexpected end of JSON input')) return text.length;
  const m = /^Unexpected token '(.)', (\.\.\.)?"([\s\S]*?)"(?:\.\.\.)? is not valid JSON$/u.exec(message);
  if (m === null) return null;
  const [, token, cut, excerpt] = m as unknown as [string, string, string | undefined, string];
  const start = text.indexOf(excerpt);
  // An excerpt found twice could point at either place: better no line than a wrong one.
  if (start < 0 || text.indexOf(excerpt, start + 1) >= 0) return null;
  const inExcerpt = cut !== undefined ? CONTEXT_CHARS : excerpt.indexOf(token);
  if (inExcerpt < 0 || (cut === undefined && excerpt.indexOf(token, inExcerpt + 1) >= 0)) return null;
  return text[start + inExcerpt] === token ? start + inExcerpt : null;
}

/** JSON.parse's reason without the quoted text (which can span lines) and without the offset. */
function reasonOf(err: Error): string {
  return err.message.replace(/, (?:\.\.\.)?"[\s\S]*" is not valid JSON$/, '').replace(/ in JSON at position \d+$/, '');
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}
