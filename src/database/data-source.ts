import { DataSource, DataSourceOptions } from 'typeorm';
import type { DatabaseTimeouts } from '../config/config.js';
import { MIGRATIONS } from './migrations.js';
import { clientConnectingWithin, DEFAULT_DATABASE_TIMEOUTS, logPoolConnectionError, pgTimeoutOptions } from './pg-connection.js';
import { SafeQueryLogger } from './query-logger.js';
import { SnakeNamingStrategy } from './snake-naming.strategy.js';

export interface DatabaseOptions {
  url: string;
  poolSize?: number;
  /** Bounded waits on every connection of the pool; the documented defaults when omitted. */
  timeouts?: DatabaseTimeouts;
}

/** The one description of our database connection: used by the app, the TypeORM CLI (ormconfig.ts) and tests. */
export function dataSourceOptions({ url, poolSize = 10, timeouts = DEFAULT_DATABASE_TIMEOUTS }: DatabaseOptions): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    // No entities: every table is read and written with typed raw SQL by the one module that owns it
    // (README, Architecture). The schema is the hand-written SQL of migrations/.
    entities: [],
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    // Failed queries are usually expected (a unique violation becomes a 409): debug level, no parameters.
    logger: new SafeQueryLogger(),
    maxQueryExecutionTime: 1000,
    extra: {
      max: poolSize,
      application_name: 'secr',
      ...pgTimeoutOptions(timeouts),
      // A request waits for a free connection up to poolWaitMs (its turn behind the others: writers of one
      // key commit one at a time), and opening a connection is still bounded by connectMs. Both were
      // connectMs: under load, 50 concurrent PUTs of one key on a pool of 5 answered 503 to those whose
      // turn came after 5 s, from a healthy database.
      connectionTimeoutMillis: timeouts.poolWaitMs,
      Client: clientConnectingWithin(timeouts.connectMs),
    },
    // An idle pooled connection that fails (terminated backend, server gone) is logged and dropped;
    // the pool opens a new one when needed. (A checked-out one fails its query instead.) pg-pool passes
    // the connection too: one it is closing anyway is not a warning.
    poolErrorHandler: logPoolConnectionError,
  };
}

/** The time-outs of a migration run (server start-up, the TypeORM CLI): connecting and lock waits only. */
export function migrationTimeouts(timeouts: DatabaseTimeouts = DEFAULT_DATABASE_TIMEOUTS): DatabaseTimeouts {
  return { ...timeouts, statementMs: 0, idleInTransactionMs: 0, queryMs: 0, lockMs: Math.max(timeouts.lockMs, 30_000) };
}

/**
 * Applies every pending migration, each in its own transaction. A migration may legitimately run
 * long (an index on a big table), so only connecting and waiting for locks are bounded here.
 */
export async function runMigrations(url: string, timeouts: DatabaseTimeouts = DEFAULT_DATABASE_TIMEOUTS): Promise<string[]> {
  const dataSource = new DataSource(dataSourceOptions({ url, poolSize: 1, timeouts: migrationTimeouts(timeouts) }));
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await dataSource.destroy();
  }
}
