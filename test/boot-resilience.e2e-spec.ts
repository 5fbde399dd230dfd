import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freePort, launchServer, type ServerProcess } from './support/server-process.js';
import { TEST_MASTER_KEY } from './support/test-app.js';
import { databaseUrl } from './support/test-database.js';

/**
 * Issue #11: a PostgreSQL connection ended during start-up (pg_terminate_backend) killed the process
 * with an unhandled 'error' event (57P01), twice in two tries. Here the real server process boots on
 * an empty database (so it runs every migration) while its connections are terminated again and again,
 * during the boot and after it.
 */
describe('the server process, while its database connections are terminated', () => {
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  admin.on('error', () => undefined);
  const servers: ServerProcess[] = [];
  const databases: string[] = [];

  afterAll(async () => {
    for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
    for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  beforeAll(() => admin.connect());

  // Two boots, each on its own empty database and port: they run side by side.
  it.concurrent.each([0, 1])(
    'survives backends terminated at random during and after the boot, and serves requests (run %i)',
    async (run) => {
      const name = `boot_${randomBytes(5).toString('hex')}`;
      databases.push(name);
      await admin.query(`CREATE DATABASE ${name}`); // empty: the server migrates it while being cut off
      const port = String(await freePort());
      const server = launchServer({ PORT: port, DATABASE_URL: databaseUrl(name), SESSION_SECRET: 'z'.repeat(40), SECR_MASTER_KEY: TEST_MASTER_KEY });
      servers.push(server);

      // Every 150–600 ms, for 8 s from its first connection on, every connection of the server
      // (migrations, TypeORM's pool, pg-boss's pool and listener) is terminated: 57P01 on whatever
      // it was doing. (A loaded machine may take a while to start node: at most 60 s in all.)
      let terminated = 0;
      let firstAt: number | undefined;
      const hardDeadline = Date.now() + 60_000;
      while (server.child.exitCode === null && Date.now() < hardDeadline && (firstAt === undefined || Date.now() - firstAt < 8_000)) {
        const { rowCount } = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        terminated += rowCount ?? 0;
        if (rowCount && firstAt === undefined) firstAt = Date.now();
        await new Promise((r) => setTimeout(r, 150 + Math.random() * 450));
      }
      // Still running, and never an unhandled 'error' event (the crash of the issue).
      const exitCode = server.child.exitCode;
      expect({
        exitCode,
        unhandledError: server.output().includes("Unhandled 'error' event"),
        // Shown only when the server has exited, to say why.
        lastOutput: exitCode === null ? undefined : server.output().slice(-3000),
      }).toEqual({ exitCode: null, unhandledError: false, lastOutput: undefined });
      expect(terminated).toBeGreaterThan(3);

      // It is (or becomes) ready by itself, and serves a request that writes and reads.
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 30_000;
      let status = 0;
      while (Date.now() < deadline && server.child.exitCode === null) {
        status = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(5_000) }).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 200) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe(200);
      const registered = await fetch(`${base}/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `boot${run}@example.com`, password: 'correct horse battery staple', name: 'Boot' }),
        signal: AbortSignal.timeout(10_000),
      });
      expect(registered.status).toBe(202);
      // 202 is also the answer for an address that exists: signing in shows the account was written.
      const signedIn = await fetch(`${base}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `boot${run}@example.com`, password: 'correct horse battery staple' }),
        signal: AbortSignal.timeout(10_000),
      });
      expect(signedIn.status).toBe(200);

      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    },
    180_000,
  );
});
