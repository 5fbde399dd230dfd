import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { dataSourceOptions } from '../src/database/data-source.js';
import { JobQueue } from '../src/common/jobs/job-queue.js';
import { isDatabaseUnavailable } from '../src/database/pg-errors.js';
import { PreparedSql } from '../src/database/prepared-sql.js';
import { startInProcessTestContext as startTestContext, type InProcessTestContext as TestContext } from './support/in-process-app.js';

/**
 * Issue #11: no database time-outs. Every connection of the app's pools carries PostgreSQL's statement,
 * lock and idle-in-transaction time-outs; a query the server does not answer fails on the client side
 * and its connection is discarded, not handed to the next request.
 */
describe('database time-outs', () => {
  let ctx: TestContext;
  let db: DataSource;
  beforeAll(async () => {
    ctx = await startTestContext({
      DATABASE_POOL_SIZE: '1', // one connection: a stuck one reused would block everything after it
      DATABASE_STATEMENT_TIMEOUT_MS: '700',
      DATABASE_LOCK_TIMEOUT_MS: '400',
      DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '5000',
      DATABASE_QUERY_TIMEOUT_MS: '1500',
    });
    db = ctx.instances[0].app.get(DataSource);
  });
  afterAll(() => ctx.close());

  const settings = 'SELECT current_setting($1) AS s, current_setting($2) AS l, current_setting($3) AS i';
  const names = ['statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout'];

  it("sets statement_timeout, lock_timeout and idle_in_transaction_session_timeout on every connection of TypeORM's and pg-boss's pools", async () => {
    expect(await db.query(settings, names)).toEqual([{ s: '700ms', l: '400ms', i: '5s' }]);
    const prepared = ctx.instances[0].app.get(PreparedSql);
    expect(await prepared.query('test_timeouts', settings, names)).toEqual([{ s: '700ms', l: '400ms', i: '5s' }]);
    const boss = await ctx.instances[0].app.get(JobQueue).ready();
    const result = (await boss.getDb().executeSql(settings, names)) as { rows: unknown[] };
    expect(result.rows).toEqual([{ s: '700ms', l: '400ms', i: '5s' }]);
  });

  it('cancels a statement that runs past statement_timeout (57014, a database-unavailable error)', async () => {
    const error = await db.query('SELECT pg_sleep(3)').catch((e: unknown) => e);
    expect(error).toMatchObject({ driverError: { code: '57014' } });
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('gives up waiting for a lock after lock_timeout (55P03)', async () => {
    const holder = await ctx.db.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(4242)');
      const error = await db.query('SELECT pg_advisory_xact_lock(4242)').catch((e: unknown) => e);
      expect(error).toMatchObject({ driverError: { code: '55P03' } });
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });

  it("survives the termination of a pooled connection held between queries (no listener of pg-pool's or TypeORM's on it)", async () => {
    // As TypeORM's start-up holds one: checked out of the pool bare, not through a query runner.
    const other = new DataSource(dataSourceOptions({ url: ctx.databaseUrl, poolSize: 1 }));
    await other.initialize();
    try {
      const client = await ((other.driver as PostgresDriver).master as pg.Pool).connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const ended = new Promise((resolve) => client.once('end', resolve));
      await ctx.db.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
      await ended; // the 57P01 has arrived; without a listener it would have crashed the process
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release(true);
    } finally {
      await other.destroy();
    }
  });

  it('fails a query the server does not answer in time on the client side, and discards its connection instead of reusing it', async () => {
    // statement_timeout off for this one session-level statement: only the client-side limit applies.
    const [{ pid: before }] = await db.query('SELECT pg_backend_pid() AS pid');
    const error = await db.query('SET statement_timeout = 0; SELECT pg_sleep(5)').catch((e: unknown) => e);
    expect(String((error as Error).message)).toContain('Query read timeout');
    expect(isDatabaseUnavailable(error)).toBe(true);
    // The pool's only connection is still busy with the sleep: a reused one would make this wait for
    // it (and time out); a fresh connection answers at once, from another backend.
    const [{ pid: after }] = await db.query('SELECT pg_backend_pid() AS pid');
    expect(after).not.toBe(before);
  });
});
