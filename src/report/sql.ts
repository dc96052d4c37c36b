/** Small helpers for building DuckDB SQL and reading its results as plain JSON numbers. */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

/** A SQL string literal ('it''s'). */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A JSON Pointer (RFC 6901) to one key, as DuckDB's json_extract takes it ('/a~1b' for "a/b"). */
export function pointerTo(key: string): string {
  return '/' + key.replace(/~/g, '~0').replace(/\//g, '~1');
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
  run(sql: string): Promise<void>;
  /** Rows as objects with JS values (bigint for BIGINT). */
  rows(sql: string): Promise<Row[]>;
  /** The single row of an aggregate query ({} when none). */
  one(sql: string): Promise<Row>;
}

async function rowsOn(conn: DuckDBConnection, sql: string): Promise<Row[]> {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJS() as Row[];
}

/** Queries on one connection, one after the other. */
export function queriesOn(conn: DuckDBConnection): Queries {
  return {
    run: async (sql) => {
      await conn.run(sql);
    },
    rows: (sql) => rowsOn(conn, sql),
    one: async (sql) => (await rowsOn(conn, sql))[0] ?? {},
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

  private constructor(conns: DuckDBConnection[]) {
    this.#idle = [...conns];
    this.#all = conns;
  }

  static async create(instance: DuckDBInstance, size: number): Promise<QueryPool> {
    const conns: DuckDBConnection[] = [];
    for (let i = 0; i < Math.max(1, size); i++) conns.push(await instance.connect());
    return new QueryPool(conns);
  }

  #with<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const p = this.#acquire(fn);
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

  run(sql: string): Promise<void> {
    return this.#with(async (c) => {
      await c.run(sql);
    });
  }

  rows(sql: string): Promise<Row[]> {
    return this.#with((c) => rowsOn(c, sql));
  }

  async one(sql: string): Promise<Row> {
    return (await this.rows(sql))[0] ?? {};
  }

  /** Waits for the queries still running (a failed section does not stop its siblings), then closes. */
  async close(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    for (const c of this.#all) c.closeSync();
  }
}
