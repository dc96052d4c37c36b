/**
 * What the report reads from each kind of line (SPEC 6) and how it is flattened at load: the
 * DuckDB types of the fields read, and the projection stored in the tables (c_* = champion,
 * h_* = challenger), so that every later query reads plain columns.
 */
import type { Columns } from './jsonl.js';
import { pointerTo, sqlString } from './sql.js';

const OUTCOME: Columns = {
  version: 'VARCHAR',
  latencyMs: 'DOUBLE',
  score: 'DOUBLE',
  decision: 'BOOLEAN',
  normalized: 'DOUBLE',
  error: { kind: 'VARCHAR' },
};

export function pairColumns(withFields: boolean): Columns {
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

/** A finite DOUBLE or NULL: DuckDB's reader accepts NaN/Infinity, which must never reach a figure. */
const finite = (expr: string) => `CASE WHEN isfinite(${expr}) THEN ${expr} END`;

function roleColumns(role: 'champion' | 'challenger', p: 'c' | 'h'): string {
  return [
    `${role}.version AS ${p}_version`,
    // A call is an outcome whose error kind is not `skipped` (SPEC 8.2).
    `(${role} IS NOT NULL AND coalesce(${role}.error.kind, '') <> 'skipped') AS ${p}_called`,
    `(${role}.error IS NOT NULL) AS ${p}_err`,
    `CASE WHEN ${role}.error IS NOT NULL THEN coalesce(${role}.error.kind, 'unknown') END AS ${p}_kind`,
    `${finite(`${role}.latencyMs`)} AS ${p}_lat`,
    `${finite(`${role}.score`)} AS ${p}_score`,
    `${role}.decision AS ${p}_dec`,
    `${finite(`${role}.normalized`)} AS ${p}_norm`,
  ].join(', ');
}

function segmentColumns(field: string): string {
  const ptr = sqlString(pointerTo(field));
  const v = `json_extract(fields, ${ptr})`;
  // Strings as themselves, other values as their JSON text, missing or null as "null" (SPEC 8.10).
  return `coalesce(CASE json_type(${v}) WHEN 'VARCHAR' THEN json_extract_string(fields, ${ptr}) ` +
    `WHEN 'NULL' THEN 'null' ELSE CAST(${v} AS VARCHAR) END, 'null') AS seg, ` +
    `coalesce(json_exists(fields, ${ptr}), false) AS has_seg`;
}

/** Pair lines flattened once, at load: every later query reads plain columns. */
export function pairSelect(segment: string | undefined): string {
  return [
    `${finite('time')} AS time`,
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
    ...(segment !== undefined ? [segmentColumns(segment)] : []),
  ].join(', ');
}

export const EVENT_COLUMNS: Columns = {
  time: 'DOUBLE',
  msg: 'VARCHAR',
  type: 'VARCHAR',
  config: 'VARCHAR',
  traffic: { control: 'DOUBLE', challenger: 'DOUBLE' },
};
export const EVENT_SELECT = `time, msg, type, config, ${finite('traffic.control')} AS control, ${finite('traffic.challenger')} AS challenger`;

export const OUTCOME_COLUMNS: Columns = { time: 'DOUBLE', msg: 'VARCHAR', requestId: 'VARCHAR', unit: 'VARCHAR', label: 'JSON' };
// Labels: 0/1 numbers or booleans; anything else makes the line rejected (SPEC 6, 8.5).
export const OUTCOME_SELECT = `time, coalesce(msg IS NULL OR msg = 'outcome', false) AS is_outcome,
  nullif(requestId, '') AS rid, nullif(unit, '') AS unit, label IS NOT NULL AS has_label,
  -- The JSON text decides the common spellings cheaply; other numbers (1.0, 1e0, -0) are parsed.
  CASE CAST(label AS VARCHAR)
    WHEN '1' THEN 1 WHEN '0' THEN 0 WHEN 'true' THEN 1 WHEN 'false' THEN 0
    ELSE CASE WHEN json_type(label) IN ('UBIGINT', 'BIGINT', 'DOUBLE') THEN
      CASE TRY_CAST(label AS DOUBLE) WHEN 1 THEN 1 WHEN 0 THEN 0 END END
  END::TINYINT AS y, msg`;
