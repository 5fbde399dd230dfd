import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type pg from 'pg';
import { PgBoss, type Db } from 'pg-boss';
import type { EntityManager } from 'typeorm';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { pgTimeoutOptions } from '../../database/pg-connection.js';

/** DI token of the database URL the app was started with (pg-boss opens its own small pool on it). */
export const JOB_DATABASE_URL = Symbol('JobDatabaseUrl');

/** pg-boss's tables live in their own schema of our database; pg-boss installs and upgrades it on start. */
export const JOB_SCHEMA = 'pgboss';

/** Connections of pg-boss's own pool, per app instance (polling, completing jobs, maintenance). */
const POOL_SIZE = 3;

/**
 * The background job queue (DESIGN.md §2): pg-boss on the app's PostgreSQL, so jobs are rows that
 * survive a crash or restart, any number of instances share them, and `SKIP LOCKED` hands each job
 * to one worker at a time. Started before the app serves requests; stopped when it closes, after
 * letting running jobs finish for a while.
 */
@Injectable()
export class JobQueue implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(JobQueue.name);
  private readonly boss: PgBoss;
  private started?: Promise<PgBoss>;
  /** How long a stop waits for running jobs: the longest is one webhook delivery attempt. */
  private readonly stopTimeoutMs: number;

  constructor(@Inject(JOB_DATABASE_URL) databaseUrl: string, @Inject(CONFIG) config: AppConfig) {
    this.boss = new PgBoss({
      connectionString: databaseUrl,
      schema: JOB_SCHEMA,
      max: POOL_SIZE,
      schedule: false,
      // The same bounded waits as the app's own pool: a stalled database fails a send within seconds.
      // pg-boss's pool logs and drops a failed idle connection itself (its 'error' event, below).
      // Off the request path, pg's per-query client time-out (a timer per query) is cheap enough.
      ...{ ...pgTimeoutOptions(config.databaseTimeouts), query_timeout: config.databaseTimeouts.queryMs },
    });
    // pg-boss reports its own failures (a lost connection, a failed maintenance pass) as events; a
    // failing job is not one of them (it is retried). The error goes through the logger's `err`
    // serializer (safeError: class, SQLSTATE, code, frames); a warning's `data` holds the SQL and the
    // values of a slow statement (job payloads), so only its message is logged.
    this.boss.on('error', (error) => this.logger.error({ err: error }, 'Job queue error'));
    this.boss.on('warning', (warning) => this.logger.warn(`Job queue: ${warning.message}`));
    this.stopTimeoutMs = config.webhooks.timeoutMs + 2_000;
  }

  onModuleInit(): Promise<unknown> {
    return this.ready();
  }

  /** The started queue; starts it on first call. */
  ready(): Promise<PgBoss> {
    // A connection lost while pg-boss installs or starts (a restart, pg_terminate_backend) fails that
    // attempt only: pg-boss tries again, 1, 2, 4 and 8 s later.
    this.started ??= this.boss.start({ attempts: 5 });
    return this.started;
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.started) return;
    await this.started.catch(() => undefined);
    // Graceful: workers stop fetching, running jobs get stopTimeoutMs to finish; any still running
    // then are failed (and so retried later, by this or another instance) and their signals aborted.
    await this.boss.stop({ graceful: true, timeout: this.stopTimeoutMs });
  }
}

/**
 * A pg-boss database adapter over the caller's TypeORM transaction: a job sent with `{ db }` is
 * inserted by the transaction itself, so it exists if and only if the transaction commits.
 */
export function transactionDb(em: EntityManager): Db {
  const runner = em.queryRunner;
  if (!runner?.isTransactionActive) throw new Error('Jobs that belong to a change must be sent inside its transaction');
  return {
    async executeSql(text: string, values?: unknown[]) {
      // The raw client of the transaction: TypeORM's query() reshapes some results ([rows, count]).
      const client = (await runner.connect()) as pg.PoolClient;
      return client.query(text, values);
    },
  };
}
