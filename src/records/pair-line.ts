/**
 * A pair record as one JSON line (docs/records.md, "Pair record"), written field by field in the
 * documented order: `level`, `time`, `msg`, then the record. The same bytes as `JSON.stringify` of
 * that object, without walking its keys: one record per request, so this runs at the proxy's full
 * rate (its cost against JSON.stringify: docs/benchmarks.md, "The hot path"; bench/investigations/record-line.ts).
 */
import { memoByKey } from '../util/memo.js';
import type { ModelOutcome, PairRecord } from './types.js';

const str = JSON.stringify as (s: string) => string;
/** Strings from a small set (route, config id, model versions, error messages): escaped once. */
const known = memoByKey(str, 1024);

/** A number as JSON writes it (`null` for NaN and ±Infinity). */
function num(n: number | null): string {
  return n !== null && Number.isFinite(n) ? '' + n : 'null';
}

function bool(b: boolean | null): string {
  return b === null ? 'null' : b ? 'true' : 'false';
}

/** One of a few plain words (`assigned`, `group`, `served`), or null. */
function word(s: string | null): string {
  return s === null ? 'null' : '"' + s + '"';
}

/** A batch's per-instance numbers (docs/records.md#batches), or null. */
function nums(a: ReadonlyArray<number | null> | null): string {
  if (a === null) return 'null';
  let s = '[';
  for (let i = 0; i < a.length; i++) s += (i === 0 ? '' : ',') + num(a[i]!);
  return s + ']';
}

function bools(a: readonly boolean[] | null): string {
  return a === null ? 'null' : '[' + a.join(',') + ']';
}

function outcome(o: ModelOutcome): string {
  let s = '{"version":' + known(o.version) + ',"status":' + num(o.status) + ',"latencyMs":' + num(o.latencyMs) + ',"score":' + num(o.score) + ',"decision":' + bool(o.decision) + ',"error":' + (o.error === null ? 'null' : '{"kind":"' + o.error.kind + '","message":' + known(o.error.message) + '}');
  if (o.normalized !== undefined) s += ',"normalized":' + (Array.isArray(o.normalized) ? nums(o.normalized) : num(o.normalized));
  if (o.scores !== undefined) s += ',"scores":' + nums(o.scores);
  if (o.decisions !== undefined) s += ',"decisions":' + bools(o.decisions);
  return s + '}';
}

/** `agree`: true/false, or a batch's share of equal decisions. */
function agree(a: boolean | number | null): string {
  return typeof a === 'number' ? num(a) : bool(a);
}

/** `record` as one line (with its newline), stamped `time` (epoch ms). */
export function pairLine(r: PairRecord, time: number): string {
  let s = '{"level":30,"time":' + time + ',"msg":"pair","requestId":' + str(r.requestId) + ',"route":' + known(r.route) + ',"config":' + known(r.config);
  if (r.instance !== undefined) s += ',"instance":' + known(r.instance);
  if (r.unit !== undefined) s += ',"unit":' + (r.unit === null ? 'null' : str(r.unit));
  s += ',"assigned":' + word(r.assigned) + ',"bucket":' + num(r.bucket) + ',"group":' + word(r.group) + ',"served":' + word(r.served) + ',"fallback":' + bool(r.fallback) + ',"champion":' + outcome(r.champion) + ',"challenger":' + outcome(r.challenger) + ',"agree":' + agree(r.agree) + (r.instances !== undefined ? ',"instances":' + num(r.instances) : '') + ',"fields":' + JSON.stringify(r.fields);
  // JSON.stringify leaves out undefined values; `request`/`response` hold any JSON value or null.
  if (r.request !== undefined) s += ',"request":' + JSON.stringify(r.request);
  if (r.response !== undefined) s += ',"response":' + JSON.stringify(r.response);
  if (r.error !== undefined) s += ',"error":{"kind":"' + r.error.kind + '","message":' + str(r.error.message) + '}';
  return s + '}\n';
}
