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
  // A number, or for a batch an array (docs/records.md#batches): typed as it is read.
  normalized: 'JSON',
  error: { kind: 'VARCHAR' },
  scores: 'DOUBLE[]',
  decisions: 'BOOLEAN[]',
};

function pairColumns(withFields: boolean): Columns {
  return {
    time: 'DOUBLE',
    msg: 'VARCHAR',
    requestId: 'VARCHAR',
    config: 'VARCHAR',
    unit: 'VARCHAR',
    assigned: 'VARCHAR',
    group: 'VARCHAR',
    fallback: 'BOOLEAN',
    instances: 'DOUBLE',
    error: 'JSON',
    champion: OUTCOME,
    challenger: OUTCOME,
    // Only read when segmenting or weighing by value: JSON columns are the costliest to materialize.
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
/** A batch record's `instances` is used up to this (a line holds far fewer scores). */
export const MAX_INSTANCES = 1e8;
/** A record's `time` (epoch ms) is used within ± this: the range of a JavaScript Date. */
export const MAX_TIME = 8.64e15;

const inRange = (expr: string, max: number) => `(isfinite(${expr}) AND abs(${expr}) <= ${sqlNumber(max)})`;
/** `expr` when a finite number within ±max, else NULL: DuckDB's reader accepts NaN/Infinity too. */
const bounded = (expr: string, max: number) => `CASE WHEN ${inRange(expr, max)} THEN ${expr} END`;
/** 1 when `expr` is a number left out by {@link bounded}, else 0. */
const outOfRange = (expr: string, max: number) => `(${expr} IS NOT NULL AND NOT ${inRange(expr, max)})::UTINYINT`;

const MEASURES = ['latencyMs', 'score'] as const;

/** A record's `normalized` when it is a number (a batch's is an array). */
const normalizedNumber = (role: string) =>
  `CASE WHEN json_type(${role}.normalized) IN ('DOUBLE', 'UBIGINT', 'BIGINT') THEN TRY_CAST(${role}.normalized AS DOUBLE) END`;
/** A batch's normalized scores (null elements kept: a version without a calibration table). */
const normalizedList = (role: string) =>
  `CASE WHEN json_type(${role}.normalized) = 'ARRAY' THEN TRY_CAST(${role}.normalized AS DOUBLE[]) END`;
/** A list with every element out of range read as absent (as {@link bounded} does for one number). */
const boundedList = (expr: string, max: number) => `list_transform(${expr}, x -> ${bounded('x', max)})`;
const outOfRangeList = (expr: string, max: number) => `coalesce(length(list_filter(${expr}, x -> x IS NOT NULL AND NOT ${inRange('x', max)})), 0)`;

/**
 * A batch record's per-instance lists (docs/records.md#batches), used only when its `instances`
 * is a count above 1 that the lists can be read against; the `rec` view (tables.ts) makes one row
 * of each instance.
 */
function batchColumns(role: 'champion' | 'challenger', p: 'c' | 'h'): string {
  return [
    `${boundedList(`${role}.scores`, MAX_MAGNITUDE)} AS ${p}_scores`,
    `${role}.decisions AS ${p}_decs`,
    `${boundedList(normalizedList(role), MAX_MAGNITUDE)} AS ${p}_norms`,
  ].join(', ');
}

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
    `${bounded(normalizedNumber(role), MAX_MAGNITUDE)} AS ${p}_norm`,
  ].join(', ');
}

/** How many of a pair line's numbers (a batch's lists included) were left out as out of range. */
function outOfRangeCount(): string {
  const terms = [outOfRange('time', MAX_TIME)];
  for (const role of ['champion', 'challenger']) {
    for (const m of MEASURES) terms.push(outOfRange(`${role}.${m}`, MAX_MAGNITUDE));
    terms.push(outOfRange(normalizedNumber(role), MAX_MAGNITUDE));
    terms.push(outOfRangeList(`${role}.scores`, MAX_MAGNITUDE), outOfRangeList(normalizedList(role), MAX_MAGNITUDE));
  }
  return `(${terms.join(' + ')})::UINTEGER AS oor`;
}

function segmentColumns(field: string): string {
  const ptr = sqlString(formatPointer([field]));
  const v = `json_extract(fields, ${ptr})`;
  // Strings as themselves, other values as their JSON text, missing or null as "null" (docs/report.md, "segments").
  return `coalesce(CASE json_type(${v}) WHEN 'VARCHAR' THEN json_extract_string(fields, ${ptr}) ` +
    `WHEN 'NULL' THEN 'null' ELSE CAST(${v} AS VARCHAR) END, 'null') AS seg, ` +
    `coalesce(json_exists(fields, ${ptr}), false) AS has_seg`;
}

/**
 * A record's value: `fields.<field>` when a number in [0, MAX_MAGNITUDE], else 0 (docs/report.md,
 * "value"): beyond it, the squares the interval sums would overflow and fail the report.
 */
function valueColumn(field: string): string {
  const ptr = sqlString(formatPointer([field]));
  const x = `CASE WHEN json_type(json_extract(fields, ${ptr})) IN ('UBIGINT', 'BIGINT', 'DOUBLE') THEN TRY_CAST(json_extract(fields, ${ptr}) AS DOUBLE) END`;
  return `coalesce(CASE WHEN ${inRange(x, MAX_MAGNITUDE)} AND ${x} >= 0 THEN ${x} END, 0) AS val, ` +
    `coalesce(json_exists(fields, ${ptr}), false) AS has_val`;
}

/** Pair lines flattened once, at load: every later query reads plain columns. */
function pairSelect(segment: string | undefined, value?: string): string {
  return [
    `${bounded('time', MAX_TIME)} AS time`,
    // Lines without `msg` are taken as pair records when they carry a model outcome.
    `coalesce(msg = 'pair' OR (msg IS NULL AND (champion IS NOT NULL OR challenger IS NOT NULL)), false) AS is_pair`,
    `coalesce(error IS NOT NULL AND CAST(error AS VARCHAR) <> 'null', false) AS rejected`,
    `nullif(requestId, '') AS requestId`,
    `nullif(unit, '') AS unit`,
    'config',
    // A record's cluster: its unit when the unit chose its group, else the record alone (NULL).
    `CASE WHEN assigned = 'key' THEN nullif(unit, '') END AS clu`,
    '"group" AS grp',
    'coalesce(fallback, false) AS fallback',
    roleColumns('champion', 'c'),
    roleColumns('challenger', 'h'),
    // A batch's instance count: a whole number above 1 (else the record is read as one instance).
    `CASE WHEN instances > 1 AND instances <= ${MAX_INSTANCES} AND instances = floor(instances) THEN instances::UINTEGER END AS n_inst`,
    batchColumns('champion', 'c'),
    batchColumns('challenger', 'h'),
    outOfRangeCount(),
    ...(segment !== undefined ? [segmentColumns(segment)] : []),
    ...(value !== undefined ? [valueColumn(value)] : []),
  ].join(', ');
}

/** Pair lines, with `seg`/`has_seg` from `fields.<segment>` when segmenting (docs/report.md, "segments"). */
export function pairTable(segment: string | undefined, value?: string): LineTable {
  return {
    columns: pairColumns(segment !== undefined || value !== undefined),
    select: pairSelect(segment, value),
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
/** An outcome's `instance` (a batch request's 0-based index) when it is a whole number >= 0, else NULL. */
const INSTANCE = `CASE WHEN json_type(instance) IN ('UBIGINT', 'BIGINT', 'DOUBLE')
      AND TRY_CAST(instance AS DOUBLE) BETWEEN 0 AND ${sqlNumber(Number.MAX_SAFE_INTEGER)}
      AND TRY_CAST(instance AS DOUBLE) = floor(TRY_CAST(instance AS DOUBLE)) THEN TRY_CAST(instance AS DOUBLE)::BIGINT END`;
/** An `instance` that is given (not null) but unusable, or given without a requestId: the line is rejected. */
const BAD_INSTANCE = `(instance IS NOT NULL AND json_type(instance) <> 'NULL' AND (${INSTANCE} IS NULL OR nullif(requestId, '') IS NULL))`;

export const OUTCOMES: LineTable = {
  columns: { time: 'DOUBLE', msg: 'VARCHAR', requestId: 'VARCHAR', unit: 'VARCHAR', instance: 'JSON', label: 'JSON' },
  // Labels: 0/1 numbers or booleans; anything else makes the line rejected.
  select: `time, coalesce(msg IS NULL OR msg = 'outcome', false) AS is_outcome,
    nullif(requestId, '') AS rid, nullif(unit, '') AS unit, ${INSTANCE} AS inst, label IS NOT NULL AS has_label,
    -- The JSON text decides the common spellings cheaply; other numbers (1.0, 1e0, -0) are parsed.
    CASE WHEN ${BAD_INSTANCE} THEN NULL ELSE CASE CAST(label AS VARCHAR)
      WHEN '1' THEN 1 WHEN '0' THEN 0 WHEN 'true' THEN 1 WHEN 'false' THEN 0
      ELSE CASE WHEN json_type(label) IN ('UBIGINT', 'BIGINT', 'DOUBLE') THEN
        CASE TRY_CAST(label AS DOUBLE) WHEN 1 THEN 1 WHEN 0 THEN 0 END END
    END END::TINYINT AS y, msg`,
  suspect: 'rid IS NULL AND unit IS NULL AND NOT has_label AND msg IS NULL AND time IS NULL',
};
