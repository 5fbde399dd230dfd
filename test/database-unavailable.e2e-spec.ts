import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { registerUser, type TestUser } from './factories/accounts.js';
import { startTestContext, type TestContext } from './support/test-app.js';

/**
 * A database that goes away under a request is the server's trouble, not a bug: the API answers 503
 * `service_unavailable` with Retry-After (issue #11), in the error shape of DESIGN.md §6.
 */
describe('an unavailable database', () => {
  let ctx: TestContext;
  let owner: TestUser;

  beforeAll(async () => {
    ctx = await startTestContext();
    owner = await registerUser(ctx.api, 'owner');
  });

  afterAll(() => ctx.close());

  /** Holds an exclusive lock on `table` until the returned release is called. */
  async function lock(table: string): Promise<{ client: pg.PoolClient; release: () => Promise<void> }> {
    const client = await ctx.db.connect();
    await client.query('BEGIN');
    await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    return {
      client,
      release: async () => {
        await client.query('ROLLBACK');
        client.release();
      },
    };
  }

  /** The app's backends that wait for a lock held by `holder`. */
  async function waitingBackends(holder: pg.PoolClient): Promise<number[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { rows } = await holder.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`,
      );
      if (rows.length) return rows.map((r) => r.pid);
      if (Date.now() > deadline) throw new Error('no request waited for the lock');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('answers 503 service_unavailable with Retry-After when its connection is terminated mid-request (57P01)', async () => {
    const held = await lock('orgs');
    try {
      const pending = ctx.api.post('/v1/orgs', { name: 'Blocked' }, { session: owner.session });
      for (const pid of await waitingBackends(held.client)) await held.client.query('SELECT pg_terminate_backend($1)', [pid]);
      const res = await pending;
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        statusCode: 503,
        code: 'service_unavailable',
        message: 'The database is unavailable; retry shortly',
        requestId: res.headers.get('x-request-id'),
      });
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await held.release();
    }
  });

  it('serves again once the database answers, on the connections left in its pool', async () => {
    const res = await ctx.api.post('/v1/orgs', { name: 'After' }, { session: owner.session });
    expect(res.status).toBe(201);
  });
});
