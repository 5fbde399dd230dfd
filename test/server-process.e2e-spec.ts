import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TestMailServer, tokenOf } from './support/mail-server.js';
import { freePort, launchServer, waitForOutput } from './support/server-process.js';
import { TEST_MASTER_KEY } from './support/test-app.js';
import { createTestDatabase } from './support/test-database.js';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres.js';

/**
 * The real server process (dist/src/main.js, built by `npm test`), as `npm start` runs it: embedded
 * PostgreSQL, migrations, signals, a stale database left by a killed run, config errors. Each test
 * launches its own processes on its own ports, data dirs and databases, so they run concurrently.
 */
function postmasterPid(dataDir: string): number | undefined {
  const file = path.join(dataDir, 'pg', 'postmaster.pid');
  return existsSync(file) ? Number.parseInt(readFileSync(file, 'utf8').split('\n')[0], 10) : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Real boots, waited for by what they print: a first start in a fresh data dir runs initdb, starts
 * PostgreSQL and migrates (~7 CPU-s measured, 2 more for a second start), and the file's tests run at
 * once. At a load average of 20 on 2 cores (other suites sharing the machine) a boot took over a minute,
 * and the two-boot tests timed out at jest's 60 s while nothing was wrong. Each wait has this deadline
 * (it fails at once if the server exits instead), and a test as many of them as it boots servers, plus one.
 */
const BOOT_MS = 120_000;
const testMs = (boots: number) => (boots + 1) * BOOT_MS;

describe('the server process', () => {
  const dirs: string[] = [];
  const mailServers: TestMailServer[] = [];
  afterAll(async () => {
    await Promise.all(mailServers.map((m) => m.stop()));
    // A PostgreSQL a failed test left behind: a fast shutdown, then wait (by polling) until it is gone.
    const left = dirs.map(postmasterPid).filter((pid): pid is number => pid !== undefined && alive(pid));
    for (const pid of left) process.kill(pid, 'SIGINT');
    const deadline = Date.now() + 10_000;
    while (left.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it.concurrent(
    'serves the API on an embedded PostgreSQL it starts, survives a SIGKILL, and stops the database on SIGTERM',
    async () => {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'secr-proc-'));
      dirs.push(dataDir);
      const env = { SECR_DATA_DIR: dataDir, PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()) };
      const base = `http://127.0.0.1:${env.PORT}`;

      const first = launchServer(env);
      await waitForOutput(first, `dashboard: http://localhost:${env.PORT}/ — Swagger UI: http://localhost:${env.PORT}/docs`, BOOT_MS);
      expect((await fetch(`${base}/health/ready`)).status).toBe(200);
      expect((await fetch(`${base}/docs`)).status).toBe(200);
      const registered = await fetch(`${base}/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'proc@example.com', password: 'correct horse battery', name: 'Proc' }),
      });
      expect(registered.status).toBe(202);
      // Without SMTP_URL, development writes each mail to the log, link included: the welcome mail's first.
      await waitForOutput(first, `http://localhost:${env.PORT}/verify-email#token=`, BOOT_MS);
      const signedIn = await fetch(`${base}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'proc@example.com', password: 'correct horse battery' }),
      });
      expect(signedIn.status).toBe(200);
      const cookie = signedIn.headers.getSetCookie()[0].split(';')[0];
      const verification = await fetch(`${base}/v1/auth/send-verification`, { method: 'POST', headers: { cookie, 'x-requested-with': 'secr' } });
      expect(verification.status).toBe(204);
      await waitForOutput(first, `http://localhost:${env.PORT}/verify-email#token=`, BOOT_MS);
      // Dev secrets are generated into the data dir, readable only by their owner.
      expect(readFileSync(path.join(dataDir, 'session.secret'), 'utf8').trim().length).toBeGreaterThan(30);
      expect(Buffer.from(readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim(), 'base64')).toHaveLength(32);
      expect(statSync(path.join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);

      // A killed run leaves its PostgreSQL behind…
      first.child.kill('SIGKILL');
      await first.exited;
      const stalePid = postmasterPid(dataDir)!;
      expect(alive(stalePid)).toBe(true);

      // …and the next start takes over, with the data intact.
      const second = launchServer(env);
      await waitForOutput(second, 'Swagger UI', BOOT_MS);
      expect(alive(stalePid)).toBe(false);
      const login = await fetch(`${base}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'proc@example.com', password: 'correct horse battery' }),
      });
      expect(login.status).toBe(200);

      const runningPid = postmasterPid(dataDir)!;
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      expect(alive(runningPid)).toBe(false);
      expect(postmasterPid(dataDir)).toBeUndefined();
    },
    testMs(2),
  );

  it.concurrent(
    'on Ctrl-C (SIGINT to the process group) stops the server, then its PostgreSQL, with no error line and the final metrics written; starts and serves quietly',
    async () => {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'secr-proc-'));
      dirs.push(dataDir);
      const env = { SECR_DATA_DIR: dataDir, PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()) };
      const server = launchServer(env);
      // A process group of its own outlives a failed test: end it then (afterAll stops its PostgreSQL).
      const leftover = () => server.child.exitCode === null && server.child.signalCode === null && process.kill(-server.child.pid!, 'SIGKILL');
      try {
        await ctrlC(server, dataDir, env);
      } finally {
        leftover();
      }
    },
    testMs(2),
  );

  async function ctrlC(server: ReturnType<typeof launchServer>, dataDir: string, env: Record<string, string>): Promise<void> {
    await waitForOutput(server, 'Swagger UI', BOOT_MS);
    // A few start-up lines, not one per module and route.
    const startUp = server.output().trim().split('\n');
    expect(startUp.length).toBeLessThanOrEqual(8);
    expect(server.output()).not.toMatch(/Mapped \{|RoutesResolver|InstanceLoader/);

    const base = `http://127.0.0.1:${env.PORT}`;
    const requestIds: string[] = [];
    for (const url of ['/health', '/health/ready', '/v1/auth/me']) requestIds.push((await fetch(base + url)).headers.get('x-request-id')!);
    // Each request logged once (the health probes, outside /v1, were logged twice).
    await waitForOutput(server, requestIds[2], BOOT_MS);
    for (const id of requestIds) expect(server.output().split(id).length - 1).toBe(1);
    const postmaster = postmasterPid(dataDir)!;
    expect(alive(postmaster)).toBe(true);

    const beforeStop = server.output().length;
    process.kill(-server.child.pid!, 'SIGINT'); // what the terminal does: every process of the group
    expect(await server.exited).toBe(0);
    expect(alive(postmaster)).toBe(false);
    const shutdownLog = server.output().slice(beforeStop);
    expect(shutdownLog).not.toMatch(/ERROR|FATAL|WARN|Job queue error|terminating connection/i);

    // The requests just made were flushed to request_metrics before PostgreSQL stopped.
    const database = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'secr' });
    const client = new pg.Client({ connectionString: database.url });
    try {
      await client.connect();
      const { rows } = await client.query(
        `SELECT route, sum(count)::int AS n FROM request_metrics WHERE route IN ('/health', '/health/ready') GROUP BY route ORDER BY route`,
      );
      expect(rows).toEqual([
        { route: '/health', n: 1 },
        { route: '/health/ready', n: 1 },
      ]);
    } finally {
      await client.end();
      await database.stop();
    }
  }

  it.concurrent(
    'starts nothing embedded when DATABASE_URL is set, and migrates that database',
    async () => {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'secr-proc-'));
      dirs.push(dataDir);
      const databaseUrl = await createTestDatabase();
      const port = String(await freePort());
      const server = launchServer({
        SECR_DATA_DIR: dataDir,
        PORT: port,
        DATABASE_URL: databaseUrl,
        SESSION_SECRET: 'x'.repeat(40),
        SECR_MASTER_KEY: TEST_MASTER_KEY,
      });
      await waitForOutput(server, 'Swagger UI', BOOT_MS);
      expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
      expect(existsSync(path.join(dataDir, 'pg'))).toBe(false);
      server.child.kill('SIGINT');
      expect(await server.exited).toBe(0);
    },
    testMs(1),
  );

  it.concurrent(
    'never writes a password, token, session cookie, invitation token or mailed token to its log',
    async () => {
      const databaseUrl = await createTestDatabase();
      const port = String(await freePort());
      // Production refuses to start without SMTP; the mailed tokens are read from this server.
      const smtp = await TestMailServer.start();
      mailServers.push(smtp);
      const base = `http://127.0.0.1:${port}`;
      const server = launchServer({
        NODE_ENV: 'production',
        LOG_LEVEL: 'trace',
        PORT: port,
        DATABASE_URL: databaseUrl,
        SESSION_SECRET: 'y'.repeat(40),
        SECR_MASTER_KEY: TEST_MASTER_KEY,
        SMTP_URL: smtp.url,
        PUBLIC_URL: base,
      });
      await waitForOutput(server, 'Swagger UI', BOOT_MS);
      const json = (body: unknown, headers: Record<string, string> = {}) => ({
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      const password = 'Pa55word-that-must-not-leak';
      await fetch(`${base}/v1/auth/register`, json({ email: 'logs@example.com', password, name: 'Logs' }));
      const welcome = tokenOf((await smtp.next('logs@example.com', /^Welcome/)).links.find((l) => l.includes('/verify-email#'))!);
      await fetch(`${base}/v1/auth/register`, json({ email: 'logs@example.com', password, name: 'Again' })); // an existing address
      await smtp.next('logs@example.com', /tried to create/);
      const login = await fetch(`${base}/v1/auth/login`, json({ email: 'logs@example.com', password }));
      const cookie = login.headers.getSetCookie()[0].split(';')[0];
      const session = { cookie, 'x-requested-with': 'secr' };
      const org = ((await (await fetch(`${base}/v1/auth/me`, { headers: session })).json()) as { orgs: Array<{ id: string }> }).orgs[0];
      const { token } = (await (await fetch(`${base}/v1/auth/token`, json({ name: 't', access: 'read_write' }, session))).json()) as { token: string };
      await fetch(`${base}/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
      const invited = (await (await fetch(`${base}/v1/members/${org.id}/invite`, json({ email: 'x@example.com', role: 'viewer' }, session))).json()) as {
        token?: string;
      };
      expect(invited.token).toBeUndefined();
      const invite = { token: tokenOf((await smtp.next('x@example.com', /^Join /)).links[0]) };
      await fetch(`${base}/v1/members/invite/${invite.token}/accept`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"password":"${password}"` });
      await fetch(`${base}/v1/auth/send-verification`, { method: 'POST', headers: session });
      const verification = tokenOf((await smtp.next('logs@example.com', /Confirm/)).links[0]);
      expect((await fetch(`${base}/v1/auth/verify-email`, json({ token: verification }))).status).toBe(204);
      await fetch(`${base}/v1/auth/forgot-password`, json({ email: 'logs@example.com' }));
      const reset = tokenOf((await smtp.next('logs@example.com', /Reset/)).links[0]);
      const newPassword = 'N3w-password-that-must-not-leak';
      expect((await fetch(`${base}/v1/auth/reset-password`, json({ token: reset, password: newPassword }))).status).toBe(204);
      await smtp.next('logs@example.com', /password was changed/);
      server.child.kill('SIGTERM');
      await server.exited;

      const log = server.output();
      expect(log).toContain('/members/invite/[REDACTED]/accept');
      for (const secret of [password, token, cookie.split('=')[1], invite.token, welcome, verification, reset, newPassword]) {
        expect(log).not.toContain(secret);
      }
    },
    testMs(1),
  );

  it.concurrent.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ NODE_ENV: 'production', DATABASE_URL: 'postgres://x@127.0.0.1:1/x' }, 'SESSION_SECRET'],
    [{ DATABASE_URL: 'mysql://nope' }, 'DATABASE_URL'],
    [{ TRUST_PROXY: 'sometimes' }, 'TRUST_PROXY'],
    [
      {
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://x@127.0.0.1:1/x',
        SESSION_SECRET: 'x'.repeat(40),
        SECR_MASTER_KEY: TEST_MASTER_KEY,
        PUBLIC_URL: 'https://secr.example.com',
      },
      'SMTP_URL',
    ],
    // A generated master key would be lost with the process: outside embedded mode it must be configured.
    [{ DATABASE_URL: 'postgres://x@127.0.0.1:1/x' }, 'SECR_MASTER_KEY'],
  ])('refuses to boot with %o and names %s', async (env, variable) => {
    const server = launchServer(env as Record<string, string>);
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain(variable);
  });
});
