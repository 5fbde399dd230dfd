import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/config.js';
import { createOrg, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { createProject, secretsPath, seedSecrets, type TestProject } from './factories/vault.js';
import { HttpClient } from './support/http.js';
import { startOwnPostgres, type OwnPostgres } from './support/own-postgres.js';
import { TEST_MASTER_KEY, TEST_SESSION_SECRET } from './support/test-app.js';

/**
 * Issue #11: with PostgreSQL stopped (SIGSTOP) every request and /health/ready hung for 40 s+, and with
 * PostgreSQL down the API answered 500. Here an app runs on a PostgreSQL of its own, with short
 * time-outs, under a little load; the database is paused, resumed, shut down and started again.
 */
const FEW_SECONDS_MS = 8_000; // the app's time-outs below add up to about 3 s for the longest path
const READY_WITHIN_MS = 2_000;

interface Answer {
  status: number;
  code?: string;
  ms: number;
}

/** One request with its own deadline (fetch alone would wait forever on a hung server). */
async function timed(url: string, init: RequestInit = {}): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { code?: string }).code;
    } catch {
      code = undefined;
    }
    return { status: res.status, code, ms: performance.now() - started };
  } catch {
    return { status: 0, ms: performance.now() - started }; // no answer at all within 30 s
  }
}

async function until<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a stalled or stopped database', () => {
  let pg: OwnPostgres;
  let app: NestFastifyApplication;
  let base: string;
  let user: TestUser;
  let org: TestOrg;
  let project: TestProject;

  const pull = () => timed(`${base}${secretsPath(org, project, 'development')}`, { headers: { cookie: `__secr_session=${user.session}` } });
  const ready = () => timed(`${base}/health/ready`);

  beforeAll(async () => {
    pg = await startOwnPostgres();
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      SESSION_SECRET: TEST_SESSION_SECRET,
      SECR_MASTER_KEY: TEST_MASTER_KEY,
      DEFAULT_PLAN: 'enterprise',
      DATABASE_POOL_SIZE: '5',
      DATABASE_STATEMENT_TIMEOUT_MS: '1000',
      DATABASE_LOCK_TIMEOUT_MS: '500',
      DATABASE_QUERY_TIMEOUT_MS: '1500',
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
      DECRYPT_WORKERS: '0',
    });
    app = await createApp(config, pg.url);
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const api = new HttpClient(base);
    user = await registerUser(api, 'outage');
    org = await createOrg(api, user);
    project = await createProject(api, user, org);
    await seedSecrets(api, { session: user.session }, org, project, 'development', { DATABASE_URL: 'postgres://x', API_KEY: 'k' });
  });

  afterAll(async () => {
    pg?.signal('SIGCONT');
    await app?.close();
    await pg?.remove();
  });

  it('answers 503 service_unavailable within a few seconds while PostgreSQL is stopped (SIGSTOP), /health/ready 503 within 2 s, and recovers by itself after SIGCONT', async () => {
    // A little load, before, during and after the stall: four clients pulling in a loop.
    const answers: Answer[] = [];
    let loading = true;
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (loading) answers.push(await pull());
      }),
    );
    try {
      await until(
        'pulls before the stall',
        async () => answers.filter((a) => a.status === 200).length,
        (n) => n >= 20,
      );

      pg.signal('SIGSTOP');
      const stalledFrom = answers.length;

      const stalledPull = await pull();
      expect(stalledPull).toMatchObject({ status: 503, code: 'service_unavailable' });
      expect(stalledPull.ms).toBeLessThan(FEW_SECONDS_MS);

      const probe = await ready();
      expect(probe).toMatchObject({ status: 503, code: 'service_unavailable' });
      expect(probe.ms).toBeLessThan(READY_WITHIN_MS);

      // The load's requests fail the same way: 503 within a few seconds, never a hang and never a 500.
      await until(
        '503s under load',
        async () => answers.slice(stalledFrom).filter((a) => a.status === 503).length,
        (n) => n >= 8,
      );
      const duringStall = answers.slice(stalledFrom);
      expect(duringStall.every((a) => a.status === 503 || a.status === 200)).toBe(true);
      expect(Math.max(...duringStall.map((a) => a.ms))).toBeLessThan(FEW_SECONDS_MS);

      pg.signal('SIGCONT');
      // No restart: the pool drops the connections that timed out and opens new ones.
      await until('a pull after SIGCONT', pull, (a) => a.status === 200);
      await until('readiness after SIGCONT', ready, (a) => a.status === 200);
      const resumedFrom = answers.length;
      await until(
        'pulls under load after SIGCONT',
        async () => answers.slice(resumedFrom).filter((a) => a.status === 200).length,
        (n) => n >= 20,
      );
      expect(answers.slice(resumedFrom + 8).every((a) => a.status === 200)).toBe(true);
    } finally {
      loading = false;
      pg.signal('SIGCONT');
      await load;
    }
  });

  it('answers 503, not 500, while PostgreSQL is shut down, and recovers when it is started again', async () => {
    expect((await pull()).status).toBe(200);
    await pg.server.stop();

    const down = await pull();
    expect(down).toMatchObject({ status: 503, code: 'service_unavailable' });
    expect(down.ms).toBeLessThan(FEW_SECONDS_MS);
    const signup = await timed(`${base}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'down@example.com', password: 'correct horse battery staple', name: 'Down' }),
    });
    expect(signup).toMatchObject({ status: 503, code: 'service_unavailable' });
    const probe = await ready();
    expect(probe).toMatchObject({ status: 503, code: 'service_unavailable' });
    expect(probe.ms).toBeLessThan(READY_WITHIN_MS);

    await pg.restart();
    await until('a pull after the restart', pull, (a) => a.status === 200);
    expect((await ready()).status).toBe(200);
  });
});
