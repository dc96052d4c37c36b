/**
 * Finding the items of a `POST /outcomes` body without parsing it whole: the elements of a JSON
 * array, the end of a first JSON value, the non-blank lines of NDJSON. Each scanner is a generator
 * that yields `null` every SCAN_SLICE bytes, so the caller can let the event loop turn however the
 * body is shaped (one 16 MiB line, 16 MiB of spaces, a string that never ends).
 * Scanning works on bytes: in UTF-8 every byte of a multi-byte character is >= 0x80, so none is
 * ever taken for a quote, a bracket or a newline.
 */

export const SCAN_SLICE = 16 * 1024;

/** [start, end) byte offsets of one item. */
export type Span = readonly [number, number];
export type Scan<R> = Generator<Span | null, R, undefined>;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** JSON's own whitespace. */
export const isJsonSpace = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
/** What makes a line blank: JSON whitespace plus vertical tab and form feed. */
export const isBlank = (c: number | undefined) => isJsonSpace(c) || c === 0x0b || c === 0x0c;

/** Offset of the first byte at or after `pos` (before `end`) that `skip` rejects, else `end`. */
export function* skipWhile(buf: Buffer, pos: number, end: number, skip: (c: number | undefined) => boolean = isJsonSpace): Scan<number> {
  let next = pos + SCAN_SLICE;
  while (pos < end && skip(buf[pos])) {
    if (++pos >= next) {
      yield null;
      next = pos + SCAN_SLICE;
    }
  }
  return pos;
}

/**
 * End (exclusive) of the JSON value that starts at `pos`, or -1 when it is cut short. Structure only
 * (brackets counted, strings and escapes honoured): JSON.parse judges the rest.
 */
export function* valueEnd(buf: Buffer, pos: number): Scan<number> {
  const first = buf[pos];
  let next = pos + SCAN_SLICE;
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY && first !== QUOTE) {
    // A number or a literal: up to the next delimiter.
    let i = pos;
    for (; i < buf.length; i++) {
      const c = buf[i]!;
      if (isJsonSpace(c) || c === COMMA || c === CLOSE_ARRAY || c === CLOSE_OBJECT) break;
      if (i >= next) {
        yield null;
        next = i + SCAN_SLICE;
      }
    }
    return i > pos ? i : -1;
  }
  let depth = 0;
  let inString = false;
  for (let i = pos; i < buf.length; i++) {
    if (i >= next) {
      yield null;
      next = i + SCAN_SLICE;
    }
    const c = buf[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) {
        inString = false;
        if (depth === 0) return i + 1;
      }
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (--depth === 0) return i + 1;
      if (depth < 0) return -1;
    }
  }
  return -1;
}

/**
 * The elements of the JSON array whose `[` is at `pos`; returns false as soon as the body turns out
 * not to be exactly one JSON array (trailing bytes included).
 */
export function* elementSpans(buf: Buffer, pos: number): Scan<boolean> {
  const end = buf.length;
  pos = yield* skipWhile(buf, pos + 1, end);
  if (buf[pos] !== CLOSE_ARRAY) {
    for (;;) {
      const last = yield* valueEnd(buf, pos);
      if (last < 0) return false;
      yield [pos, last];
      pos = yield* skipWhile(buf, last, end);
      if (buf[pos] === CLOSE_ARRAY) break;
      if (buf[pos] !== COMMA) return false;
      pos = yield* skipWhile(buf, pos + 1, end);
    }
  }
  return (yield* skipWhile(buf, pos + 1, end)) === end;
}

/** The non-blank lines, each without its newline. */
export function* lineSpans(buf: Buffer): Scan<void> {
  const end = buf.length;
  let pos = 0;
  while (pos < end) {
    // Searched a slice at a time: one endless line must not hold the loop either.
    let eol = end;
    for (let from = pos; from < end; from += SCAN_SLICE) {
      const i = buf.subarray(from, Math.min(end, from + SCAN_SLICE)).indexOf(NEWLINE);
      if (i >= 0) {
        eol = from + i;
        break;
      }
      yield null;
    }
    if ((yield* skipWhile(buf, pos, eol, isBlank)) < eol) yield [pos, eol];
    pos = eol + 1;
  }
}
