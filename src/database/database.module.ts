import { Global, Injectable, Module } from '@nestjs/common';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { guardPoolReleases } from './pg-connection.js';
import { PreparedSql } from './prepared-sql.js';

/**
 * TypeORM's pool, guarded: a connection handed back with a query still unanswered (the client-side
 * query time-out fired: the server stopped answering) is closed instead of being reused. Idle
 * connection errors are handled by the pool's `poolErrorHandler` (data-source.ts).
 */
@Injectable()
export class DatabasePoolGuard {
  constructor(db: DataSource) {
    guardPoolReleases((db.driver as PostgresDriver).master as pg.Pool);
  }
}

@Global()
@Module({ providers: [PreparedSql, DatabasePoolGuard], exports: [PreparedSql] })
export class DatabaseModule {}
