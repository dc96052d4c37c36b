/**
 * Reading `POST /outcomes` bodies (docs/operations.md#feeding-outcomes): a JSON object, a JSON array,
 * or NDJSON. The whole body counts as JSON first; it is read an item at a time, yielding to the event
 * loop between slices, so a 16 MiB batch never holds up the public port.
 */
import type { OutcomeRecord } from '../records/types.js';
import { elementSpans, isBlank, lineSpans, skipWhile, valueEnd, type Scan, type Span } from './json-scan.js';

/** An item larger than this is rejected unparsed: a real outcome is a few dozen bytes. */
export const MAX_ITEM_BYTES = 64 * 1024;
/** The answer lists this many rejected items at most (and then says how many there were). */
export const MAX_LISTED_REJECTIONS = 10_000;
/** Roughly this much input is handled between two turns of the event loop. */
const TURN_BYTES = 4 * 1024;
/** An item costs at least this much of a turn, however small it is. */
const ITEM_COST = 64;

export interface Rejection {
  index: number;
  error: string;
}

export interface OutcomesSummary {
  accepted: number;
  rejected: Rejection[];
  /** Present only when `rejected` was cut at MAX_LISTED_REJECTIONS: how many were rejected. */
  rejectedCount?: number;
}

/** Where accepted items go, and how the parser waits between slices (e.g. for writes to land). */
export interface OutcomeTarget {
  accept(record: OutcomeRecord): void;
  turn(): Promise<void>;
}

export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One item: `{requestId?, unit?, instance?, label}` with at least one id; true/false stored as 1/0; other keys dropped. */
export function validateOutcome(item: unknown): OutcomeRecord | string {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return 'must be a JSON object';
  const o = item as Record<string, unknown>;
  const out: Partial<OutcomeRecord> = {};
  for (const key of ['requestId', 'unit'] as const) {
    const v = o[key];
    if (v === undefined || v === null) continue;
    if (typeof v === 'number' && key === 'unit') out.unit = String(v);
    else if (typeof v !== 'string' || v === '') return `${key}: must be a non-empty string, got ${describe(v)}`;
    else out[key] = v;
  }
  if (out.requestId === undefined && out.unit === undefined) return 'needs requestId or unit';
  // A batch request's instance (docs/records.md#outcome-record): its 0-based index, only with requestId.
  const instance = o.instance;
  if (instance !== undefined && instance !== null) {
    if (typeof instance !== 'number' || !Number.isSafeInteger(instance) || instance < 0) return `instance: must be an integer >= 0, got ${describe(instance)}`;
    if (out.requestId === undefined) return 'instance: only with requestId (it indexes that request\'s batch)';
    out.instance = instance;
  }
  const label = o.label;
  if (label === 1 || label === true) out.label = 1;
  else if (label === 0 || label === false) out.label = 0;
  else return `label: must be 0, 1, true or false, got ${describe(label)}`;
  return out as OutcomeRecord;
}

/** What a bad value was, in a few words: never the value itself when it is large or nested. */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  if (v !== null && typeof v === 'object') return 'an object';
  if (typeof v === 'string') return v.length > 32 ? `${JSON.stringify(v.slice(0, 32))}... (a string of ${v.length} characters)` : JSON.stringify(v);
  return String(v);
}

/** Items in order: validated, counted, rejections listed up to the bound. */
class Tally {
  index = 0;
  accepted: OutcomeRecord[] = [];
  readonly summary: OutcomesSummary = { accepted: 0, rejected: [] };
  #rejected = 0;

  reject(error: string): void {
    if (++this.#rejected <= MAX_LISTED_REJECTIONS) this.summary.rejected.push({ index: this.index, error });
    else this.summary.rejectedCount = this.#rejected;
    this.index++;
  }

  /** undefined: the span is not JSON. */
  item(buf: Buffer, [start, end]: Span): OutcomeRecord | string | undefined {
    if (end - start > MAX_ITEM_BYTES) return `over ${MAX_ITEM_BYTES} bytes`;
    try {
      return validateOutcome(JSON.parse(buf.toString('utf8', start, end)));
    } catch {
      return undefined;
    }
  }

  take(v: OutcomeRecord | string, target: OutcomeTarget | null): void {
    if (typeof v === 'string') return this.reject(v);
    this.summary.accepted++;
    this.index++;
    if (target) target.accept(v);
    else this.accepted.push(v);
  }
}

/** Runs a scan to its end, taking a turn at its pauses and after TURN_BYTES worth of items. */
async function drive<R>(scan: Scan<R>, turn: () => Promise<void>, onItem?: (span: Span) => boolean): Promise<R | undefined> {
  let budget = TURN_BYTES;
  for (;;) {
    const step = scan.next();
    if (step.done) return step.value;
    if (step.value === null) {
      await turn();
      budget = TURN_BYTES;
      continue;
    }
    if (onItem && !onItem(step.value)) return undefined;
    budget -= step.value[1] - step.value[0] + ITEM_COST;
    if (budget <= 0) {
      await turn();
      budget = TURN_BYTES;
    }
  }
}

/**
 * Reads a body and hands every valid item to `target` in order; null when the body is blank. A JSON
 * array is held until its closing bracket proves it one (else the body is read again as NDJSON).
 */
export async function parseOutcomes(buf: Buffer, target: OutcomeTarget): Promise<OutcomesSummary | null> {
  const turn = () => target.turn();
  if ((await drive(skipWhile(buf, 0, buf.length, isBlank), turn)) === buf.length) return null;
  const start = (await drive(skipWhile(buf, 0, buf.length), turn))!;
  const first = buf[start];
  if (first === 0x5b) {
    const held = new Tally();
    const whole = await drive(elementSpans(buf, start), turn, (span) => {
      const v = held.item(buf, span);
      if (v === undefined) return false;
      held.take(v, null);
      return true;
    });
    if (whole === true) {
      for (let i = 0; i < held.accepted.length; i++) {
        target.accept(held.accepted[i]!);
        if (i % 256 === 255) await turn();
      }
      return held.summary;
    }
  } else if (first === 0x7b) {
    const end = (await drive(valueEnd(buf, start), turn))!;
    if (end > 0 && (await drive(skipWhile(buf, end, buf.length), turn)) === buf.length) {
      const one = new Tally();
      const v = one.item(buf, [start, end]);
      if (v !== undefined) {
        one.take(v, target);
        return one.summary;
      }
    }
  }
  const lines = new Tally();
  await drive(lineSpans(buf), turn, (span) => {
    lines.take(lines.item(buf, span) ?? 'not valid JSON', target);
    return true;
  });
  return lines.summary;
}
