import { Injectable } from '@nestjs/common';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

/**
 * Named prepared statements on TypeORM's own connection pool, for the few queries every request makes
 * (credential lookup, the pull). PostgreSQL parses and plans a named statement once per connection
 * instead of on every call, and the query skips TypeORM's per-call query runner. Not for use inside
 * a transaction: it takes its own pooled connection.
 */
@Injectable()
export class PreparedSql {
  private readonly pool: pg.Pool;

  constructor(db: DataSource) {
    this.pool = (db.driver as PostgresDriver).master as pg.Pool;
  }

  /** `name` identifies `text`: one name, one SQL text, for the life of the process. */
  async query<T = Record<string, unknown>>(name: string, text: string, values: unknown[]): Promise<T[]> {
    try {
      const result = await this.pool.query({ name, text, values });
      return result.rows as T[];
    } catch (error) {
      // The name is what a log shows of a failed statement (safeError): never its text or values.
      if (error !== null && typeof error === 'object') Object.assign(error, { statement: name });
      throw error;
    }
  }
}
