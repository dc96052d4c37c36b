/**
 * What the report reads from each kind of line (docs/records.md) and how it is flattened at load:
 * for each table, the DuckDB types of the fields read, the projection stored (c_* = champion,
 * h_* = challenger), so that every later query reads plain columns, and which stored rows a
 * broken line could have produced.
 */
import type { Columns } from './columns.js';
import { formatPointer } from '../util/json-pointer.js';
import { sqlNumber, sqlString } from './sql.js';

/** How one kind of line is read into its table (the options `loadJsonLines` takes). */
export interface LineTable {
  /** The fields read from each line, with their DuckDB types. */
  columns: Columns;
  /** The projection over those fields that is stored. */
  select: string;
  /**
   * True for every stored row a line that is not a JSON object could yield (DuckDB's typed reader
   * reads one as a row of NULLs): every column the report uses is empty. Such rows are dropped and
   * their lines counted exactly (jsonl.ts), so an object line matching it must carry nothing useful.
   */
  suspect: string;
}

const OUTCOME: Columns = {
  version: 'VARCHAR',
  latencyMs: 'DOUBLE',
  score: 'DOUBLE',
  decision: 'BOOLEAN',
  normalized: 'DOUBLE',
  error: { kind: 'VARCHAR' },
};

function pairColumns(withFields: boolean): Columns {
  return {
    time: 'DOUBLE',
    msg: 'VARCHAR',
    requestId: 'VARCHAR',
    config: 'VARCHAR',
    unit: 'VARCHAR',
    group: 'VARCHAR',
    fallback: 'BOOLEAN',
    error: 'JSON',
    champion: OUTCOME,
    challenger: OUTCOME,
    // Only read when segmenting: JSON columns are the costliest to materialize.
    ...(withFields ? { fields: 'JSON' } : {}),
  };
}

/**
 * The largest magnitude a score, normalized score or latency may have to be used. Beyond it a value
 * is read as absent and counted in `window.outOfRange` (docs/report.md, "Out-of-range values"): no
 * model's score or latency comes near it, and with every value within it no sum, square or
 * difference the report computes can overflow a double.
 */
export const MAX_MAGNITUDE = 1e15;
/** A record's `time` (epoch ms) is used within ± this: the range of a JavaScript Date. */
export const MAX_TIME = 8.64e15;

const inRange = (expr: string, max: number) => `(isfinite(${expr}) AND abs(${expr}) <= ${sqlNumber(max)})`;
/** `expr` when a finite number within ±max, else NULL: DuckDB's reader accepts NaN/Infinity too. */
const bounded = (expr: string, max: number) => `CASE WHEN ${inRange(expr, max)} THEN ${expr} END`;
/** 1 when `expr` is a number left out by {@link bounded}, else 0. */
const outOfRange = (expr: string, max: number) => `(${expr} IS NOT NULL AND NOT ${inRange(expr, max)})::UTINYINT`;

const MEASURES = ['latencyMs', 'score', 'normalized'] as const;

function roleColumns(role: 'champion' | 'challenger', p: 'c' | 'h'): string {
  return [
    `${role}.version AS ${p}_version`,
    // A call is an outcome whose error kind is not `skipped` (docs/report.md, "Sections").
    `(${role} IS NOT NULL AND coalesce(${role}.error.kind, '') <> 'skipped') AS ${p}_called`,
    `(${role}.error IS NOT NULL) AS ${p}_err`,
    `CASE WHEN ${role}.error IS NOT NULL THEN coalesce(${role}.error.kind, 'unknown') END AS ${p}_kind`,
    `${bounded(`${role}.latencyMs`, MAX_MAGNITUDE)} AS ${p}_lat`,
    `${bounded(`${role}.score`, MAX_MAGNITUDE)} AS ${p}_score`,
    `${role}.decision AS ${p}_dec`,
    `${bounded(`${role}.normalized`, MAX_MAGNITUDE)} AS ${p}_norm`,
  ].join(', ');
}

/** How many of a pair line's numbers were left out as out of range (0–7). */
function outOfRangeCount(): string {
  const terms = [outOfRange('time', MAX_TIME)];
  for (const role of ['champion', 'challenger']) for (const m of MEASURES) terms.push(outOfRange(`${role}.${m}`, MAX_MAGNITUDE));
  return `(${terms.join(' + ')})::UTINYINT AS oor`;
}

function segmentColumns(field: string): string {
  const ptr = sqlString(formatPointer([field]));
  const v = `json_extract(fields, ${ptr})`;
  // Strings as themselves, other values as their JSON text, missing or null as "null" (docs/report.md, "segments").
  return `coalesce(CASE json_type(${v}) WHEN 'VARCHAR' THEN json_extract_string(fields, ${ptr}) ` +
    `WHEN 'NULL' THEN 'null' ELSE CAST(${v} AS VARCHAR) END, 'null') AS seg, ` +
    `coalesce(json_exists(fields, ${ptr}), false) AS has_seg`;
}

/** Pair lines flattened once, at load: every later query reads plain columns. */
function pairSelect(segment: string | undefined): string {
  return [
    `${bounded('time', MAX_TIME)} AS time`,
    // Lines without `msg` are taken as pair records when they carry a model outcome.
    `coalesce(msg = 'pair' OR (msg IS NULL AND (champion IS NOT NULL OR challenger IS NOT NULL)), false) AS is_pair`,
    `coalesce(error IS NOT NULL AND CAST(error AS VARCHAR) <> 'null', false) AS rejected`,
    `nullif(requestId, '') AS requestId`,
    `nullif(unit, '') AS unit`,
    'config',
    '"group" AS grp',
    'coalesce(fallback, false) AS fallback',
    roleColumns('champion', 'c'),
    roleColumns('challenger', 'h'),
    outOfRangeCount(),
    ...(segment !== undefined ? [segmentColumns(segment)] : []),
  ].join(', ');
}

/** Pair lines, with `seg`/`has_seg` from `fields.<segment>` when segmenting (docs/report.md, "segments"). */
export function pairTable(segment: string | undefined): LineTable {
  return {
    columns: pairColumns(segment !== undefined),
    select: pairSelect(segment),
    suspect: 'NOT is_pair AND NOT rejected AND time IS NULL AND requestId IS NULL AND config IS NULL AND grp IS NULL',
  };
}

// A traffic fraction outside [0, 1] announces nothing: the event is not used for the SRM check.
const fraction = (expr: string) => `CASE WHEN ${expr} BETWEEN 0 AND 1 THEN ${expr} END`;

export const EVENTS: LineTable = {
  columns: {
    time: 'DOUBLE', msg: 'VARCHAR', type: 'VARCHAR', config: 'VARCHAR', traffic: { control: 'DOUBLE', challenger: 'DOUBLE' },
    // What the timeline's event markers say (report/sections/timeline.ts).
    rule: 'VARCHAR', source: 'VARCHAR', on: 'BOOLEAN', from: 'DOUBLE', to: 'DOUBLE', value: 'DOUBLE', limit: 'DOUBLE',
  },
  select: `time, msg, type, config, ${fraction('traffic.control')} AS control, ${fraction('traffic.challenger')} AS challenger,
    rule, source, "on" AS bypass_on, "from" AS ramp_from, "to" AS ramp_to, ${bounded('value', MAX_MAGNITUDE)} AS value,
    ${bounded('"limit"', MAX_MAGNITUDE)} AS lim`,
  suspect: 'time IS NULL AND msg IS NULL AND type IS NULL AND config IS NULL AND control IS NULL AND challenger IS NULL',
};

/** Outcome lines: `y` is the parsed label, NULL when the line is rejected (docs/report.md, "labels"). */
export const OUTCOMES: LineTable = {
  columns: { time: 'DOUBLE', msg: 'VARCHAR', requestId: 'VARCHAR', unit: 'VARCHAR', label: 'JSON' },
  // Labels: 0/1 numbers or booleans; anything else makes the line rejected.
  select: `time, coalesce(msg IS NULL OR msg = 'outcome', false) AS is_outcome,
    nullif(requestId, '') AS rid, nullif(unit, '') AS unit, label IS NOT NULL AS has_label,
    -- The JSON text decides the common spellings cheaply; other numbers (1.0, 1e0, -0) are parsed.
    CASE CAST(label AS VARCHAR)
      WHEN '1' THEN 1 WHEN '0' THEN 0 WHEN 'true' THEN 1 WHEN 'false' THEN 0
      ELSE CASE WHEN json_type(label) IN ('UBIGINT', 'BIGINT', 'DOUBLE') THEN
        CASE TRY_CAST(label AS DOUBLE) WHEN 1 THEN 1 WHEN 0 THEN 0 END END
    END::TINYINT AS y, msg`,
  suspect: 'rid IS NULL AND unit IS NULL AND NOT has_label AND msg IS NULL AND time IS NULL',
};
