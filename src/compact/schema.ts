/**
 * The columns of a compacted pair file (docs/records.md, "The Parquet schema"): one per field of the
 * pair record, model outcomes as structs, free-form values (`fields`, bodies, errors) as JSON text.
 * The report reads these columns as it reads the same fields from JSONL (report/schema.ts), so a
 * record gives the same figures in either form.
 */
import type { Columns } from '../report/columns.js';

const OUTCOME: Columns = {
  version: 'VARCHAR',
  status: 'BIGINT',
  latencyMs: 'DOUBLE',
  score: 'DOUBLE',
  decision: 'BOOLEAN',
  // A number, or for a batch an array (docs/records.md#batches).
  normalized: 'JSON',
  error: { kind: 'VARCHAR', message: 'VARCHAR' },
  scores: 'DOUBLE[]',
  decisions: 'BOOLEAN[]',
};

export const PAIR_PARQUET_COLUMNS: Columns = {
  level: 'BIGINT',
  time: 'DOUBLE',
  msg: 'VARCHAR',
  requestId: 'VARCHAR',
  route: 'VARCHAR',
  config: 'VARCHAR',
  unit: 'VARCHAR',
  assigned: 'VARCHAR',
  bucket: 'DOUBLE',
  group: 'VARCHAR',
  served: 'VARCHAR',
  fallback: 'BOOLEAN',
  champion: OUTCOME,
  challenger: OUTCOME,
  // A batch record's count of instances, and its share of equal decisions in `agree`.
  instances: 'DOUBLE',
  agree: 'JSON',
  fields: 'JSON',
  request: 'JSON',
  response: 'JSON',
  error: 'JSON',
  recordError: 'JSON',
  instance: 'VARCHAR',
};

/**
 * A row every column of which is NULL can come from a line that is not a JSON object (DuckDB's typed
 * reader yields one for it); such rows are dropped and their lines counted exactly (report/jsonl.ts).
 */
export const PAIR_PARQUET_SUSPECT = Object.keys(PAIR_PARQUET_COLUMNS).map((k) => `"${k}" IS NULL`).join(' AND ');

/** The UTC day of a record's `time` (`YYYY-MM-DD`), `unknown` when it has no usable time. */
export const DAY_EXPR = `CASE WHEN isfinite(time) AND time BETWEEN 0 AND 253402300799999
  THEN strftime(make_timestamp(CAST(floor(time) AS BIGINT) * 1000), '%Y-%m-%d') ELSE 'unknown' END`;
