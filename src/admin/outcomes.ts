/** Parsing `POST /outcomes` bodies (SPEC 7): a JSON object, a JSON array, or NDJSON. */
import type { OutcomeRecord } from '../records/types.js';

export interface ParsedOutcomes {
  accepted: OutcomeRecord[];
  rejected: Array<{ index: number; error: string }>;
}

/** One item: `{requestId?, unit?, label}` with at least one id; true/false stored as 1/0; other keys dropped. */
export function validateOutcome(item: unknown): OutcomeRecord | string {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return 'must be a JSON object';
  const o = item as Record<string, unknown>;
  const out: Partial<OutcomeRecord> = {};
  for (const key of ['requestId', 'unit'] as const) {
    const v = o[key];
    if (v === undefined || v === null) continue;
    if (typeof v === 'number' && key === 'unit') out.unit = String(v);
    else if (typeof v !== 'string' || v === '') return `${key}: must be a non-empty string`;
    else out[key] = v;
  }
  if (out.requestId === undefined && out.unit === undefined) return 'needs requestId or unit';
  const label = o.label;
  if (label === 1 || label === true) out.label = 1;
  else if (label === 0 || label === false) out.label = 0;
  else return `label: must be 0, 1, true or false, got ${label === undefined ? 'nothing' : JSON.stringify(label)}`;
  return out as OutcomeRecord;
}

export function parseOutcomes(text: string): ParsedOutcomes {
  let items: Array<{ index: number; value: unknown } | { index: number; error: string }>;
  let whole: unknown;
  let wholeOk = true;
  try {
    whole = JSON.parse(text);
  } catch {
    wholeOk = false;
  }
  if (wholeOk) {
    items = (Array.isArray(whole) ? whole : [whole]).map((value, index) => ({ index, value }));
  } else {
    items = [];
    let index = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        items.push({ index, value: JSON.parse(line) });
      } catch {
        items.push({ index, error: 'not valid JSON' });
      }
      index++;
    }
  }
  const result: ParsedOutcomes = { accepted: [], rejected: [] };
  for (const item of items) {
    if ('error' in item) {
      result.rejected.push(item);
      continue;
    }
    const v = validateOutcome(item.value);
    if (typeof v === 'string') result.rejected.push({ index: item.index, error: v });
    else result.accepted.push(v);
  }
  return result;
}
