/**
 * Small helpers for building DuckDB SQL and reading its results as plain JSON numbers. Values that
 * come from logs or flags are bound as parameters ({@link Param}); the few places DuckDB takes no
 * parameter (views, DDL) use the checked literals below, never a value spliced in as it is.
 */
import { DOUBLE, LIST, listValue, VARCHAR, type DuckDBConnection, type DuckDBInstance, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';

/** A SQL string literal ('it''s'). DuckDB's parser ends a literal at a NUL character: refused. */
export function sqlString(s: string): string {
  if (s.includes('\0')) throw new Error(`a NUL character cannot be written into SQL text: ${JSON.stringify(s)}`);
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * A DOUBLE literal that reads back as exactly `x` (17 significant digits in exponent form, which
 * DuckDB reads as a DOUBLE, not as a DECIMAL). NaN and ±Infinity are refused: in SQL text they
 * would read as column names.
 */
export function sqlNumber(x: number): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`not a finite number, cannot be written into SQL: ${String(x)}`);
  return x.toExponential(16);
}

/** An integer literal (row batches, sizes); anything else is refused. */
export function sqlInt(x: number): string {
  if (!Number.isSafeInteger(x)) throw new Error(`not an integer, cannot be written into SQL: ${String(x)}`);
  return String(x);
}

/**
 * A value bound to a `$n` parameter: a number as DOUBLE (finite only), a string as VARCHAR, a list
 * of strings as VARCHAR[], a {@link Doubles} list as DOUBLE[].
 */
export type Param = number | string | readonly string[] | Doubles;

/** A list of finite numbers bound as DOUBLE[]. */
export class Doubles {
  constructor(readonly values: readonly number[]) {
    for (const x of values) sqlNumber(x);
  }
}

function bind(params: readonly Param[]): { values: DuckDBValue[]; types: DuckDBType[] } {
  const values: DuckDBValue[] = [];
  const types: DuckDBType[] = [];
  for (const p of params) {
    if (typeof p === 'number') {
      // Typed explicitly: an integral JS number would otherwise bind as INTEGER or BIGINT.
      sqlNumber(p);
      values.push(p);
      types.push(DOUBLE);
    } else if (typeof p === 'string') {
      values.push(p);
      types.push(VARCHAR);
    } else if (p instanceof Doubles) {
      values.push(listValue([...p.values]));
      types.push(LIST(DOUBLE));
    } else {
      values.push(listValue([...p]));
      types.push(LIST(VARCHAR));
    }
  }
  return { values, types };
}

/** Runs a statement, its `$1`, `$2`… bound to `params`. */
export async function runSql(conn: DuckDBConnection, sql: string, params: readonly Param[] = []): Promise<void> {
  if (params.length === 0) {
    await conn.run(sql);
    return;
  }
  const { values, types } = bind(params);
  await conn.run(sql, values, types);
}

/** A DuckDB value as a finite number or null (counts come back as bigint, NaN must not leak). */
export function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

/** Like {@link num} with 0 for null (for counts). */
export function count(v: unknown): number {
  return num(v) ?? 0;
}

/** A list value (quantile_cont with several fractions) as numbers; [] when null. */
export function nums(v: unknown): (number | null)[] {
  return Array.isArray(v) ? v.map(num) : [];
}

export type Row = Record<string, unknown>;

/** What the report's sections need from DuckDB. */
export interface Queries {
  /** Runs a statement (DDL) with no result. */
  run(sql: string, params?: readonly Param[]): Promise<void>;
  /** Rows as objects with JS values (bigint for BIGINT); `$n` bound to `params`. */
  rows(sql: string, params?: readonly Param[]): Promise<Row[]>;
  /** The single row of an aggregate query ({} when none). */
  one(sql: string, params?: readonly Param[]): Promise<Row>;
}

async function rowsOn(conn: DuckDBConnection, sql: string, params: readonly Param[] = []): Promise<Row[]> {
  let reader;
  if (params.length === 0) {
    reader = await conn.runAndReadAll(sql);
  } else {
    const { values, types } = bind(params);
    reader = await conn.runAndReadAll(sql, values, types);
  }
  return reader.getRowObjectsJS() as Row[];
}

/**
 * Told of the connections a report opens and of each query they finish: bench/report/profile.ts
 * turns DuckDB's profiler on through it and reads each query's profile.
 */
export interface QueryObserver {
  connected(conn: DuckDBConnection): Promise<void>;
  finished(conn: DuckDBConnection, sql: string): Promise<void>;
}

/** Queries on one connection, one after the other. */
export function queriesOn(conn: DuckDBConnection): Queries {
  return {
    run: (sql, params) => runSql(conn, sql, params),
    rows: (sql, params) => rowsOn(conn, sql, params),
    one: async (sql, params) => (await rowsOn(conn, sql, params))[0] ?? {},
  };
}

/**
 * Queries spread over a few connections to one database. DuckDB finishes holistic aggregates
 * (quantiles) and window sorts on one thread; independent queries issued together then use the
 * other cores. Tables shared this way must not be TEMP (those are per connection).
 */
export class QueryPool implements Queries {
  readonly #idle: DuckDBConnection[];
  readonly #waiting: ((conn: DuckDBConnection) => void)[] = [];
  readonly #all: DuckDBConnection[];
  readonly #inFlight = new Set<Promise<unknown>>();

  readonly #observer: QueryObserver | undefined;

  private constructor(conns: DuckDBConnection[], observer: QueryObserver | undefined) {
    this.#idle = [...conns];
    this.#all = conns;
    this.#observer = observer;
  }

  static async create(instance: DuckDBInstance, size: number, observer?: QueryObserver): Promise<QueryPool> {
    const conns: DuckDBConnection[] = [];
    for (let i = 0; i < Math.max(1, size); i++) {
      const conn = await instance.connect();
      conns.push(conn);
      await observer?.connected(conn);
    }
    return new QueryPool(conns, observer);
  }

  #with<T>(sql: string, fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const observer = this.#observer;
    const p = this.#acquire(observer ? async (c) => {
      const out = await fn(c);
      await observer.finished(c, sql);
      return out;
    } : fn);
    this.#inFlight.add(p);
    const forget = () => this.#inFlight.delete(p);
    p.then(forget, forget);
    return p;
  }

  async #acquire<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const conn = this.#idle.pop() ?? (await new Promise<DuckDBConnection>((resolve) => this.#waiting.push(resolve)));
    try {
      return await fn(conn);
    } finally {
      const next = this.#waiting.shift();
      if (next) next(conn);
      else this.#idle.push(conn);
    }
  }

  run(sql: string, params?: readonly Param[]): Promise<void> {
    return this.#with(sql, (c) => runSql(c, sql, params));
  }

  rows(sql: string, params?: readonly Param[]): Promise<Row[]> {
    return this.#with(sql, (c) => rowsOn(c, sql, params));
  }

  async one(sql: string, params?: readonly Param[]): Promise<Row> {
    return (await this.rows(sql, params))[0] ?? {};
  }

  /** Waits for the queries still running (a failed section does not stop its siblings), then closes. */
  async close(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    for (const c of this.#all) c.closeSync();
  }
}
