/**
 * The fields read from each line, with their DuckDB types, and the three forms DuckDB's JSON
 * readers take them in: `read_json`'s `columns`, `json_transform`'s structure and a column type.
 */
import { sqlString } from './sql.js';

/** A DuckDB type name, or a nested object for a STRUCT. */
export type Shape = string | { readonly [key: string]: Shape };
export type Columns = { readonly [key: string]: Shape };

/** A quoted identifier: field names come from the schema, but `"` would still end one. */
const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** The DuckDB type of a shape (`STRUCT("kind" VARCHAR)` for `{ kind: 'VARCHAR' }`). */
function typeSql(shape: Shape): string {
  if (typeof shape === 'string') return shape;
  return `STRUCT(${Object.entries(shape).map(([k, v]) => `${ident(k)} ${typeSql(v)}`).join(', ')})`;
}

/** `read_json(columns = {...})` argument. */
export function readJsonColumns(columns: Columns): string {
  return `{${Object.entries(columns).map(([k, v]) => `${sqlString(k)}: ${sqlString(typeSql(v))}`).join(', ')}}`;
}

/** `json_transform` structure: the same shape as JSON. */
export function transformStructure(columns: Columns): string {
  return sqlString(JSON.stringify(columns));
}

/** One row of typed NULLs, one column per field: what a table of these columns is created from. */
export function emptyRow(columns: Columns): string {
  return Object.entries(columns).map(([k, v]) => `CAST(NULL AS ${typeSql(v)}) AS ${ident(k)}`).join(', ');
}
