import { Global, Inject, Injectable, Module, type OnModuleDestroy } from '@nestjs/common';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { CONFIG, type AppConfig } from '../config/config.js';
import { watchStalledQueries } from './pg-connection.js';
import { PreparedSql } from './prepared-sql.js';

/**
 * TypeORM's pool, guarded: a query the server leaves unanswered for DATABASE_QUERY_TIMEOUT_MS fails on
 * the client side and its connection is closed (watchStalledQueries). Idle connection errors are handled
 * by the pool's `poolErrorHandler` (data-source.ts).
 */
@Injectable()
export class DatabasePoolGuard implements OnModuleDestroy {
  private readonly stopWatching: () => void;

  constructor(db: DataSource, @Inject(CONFIG) config: AppConfig) {
    const pool = (db.driver as PostgresDriver).master as pg.Pool;
    this.stopWatching = watchStalledQueries(pool, config.databaseTimeouts.queryMs);
  }

  onModuleDestroy(): void {
    this.stopWatching();
  }
}

@Global()
@Module({ providers: [PreparedSql, DatabasePoolGuard], exports: [PreparedSql] })
export class DatabaseModule {}
