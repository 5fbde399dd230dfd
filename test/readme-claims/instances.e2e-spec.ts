import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createOrg, registerUser, type TestOrg, type TestUser } from '../factories/accounts.js';
import { createProject, secretsPath, seedSecrets } from '../factories/vault.js';
import type { HttpClient } from '../support/http.js';
import { startInProcessTestContext as startTestContext, type InProcessTestContext as TestContext } from '../support/in-process-app.js';

/**
 * README claims about what app instances share and cache: rate-limit counters live in PostgreSQL
 * (Production: "rate-limit counters … live in PostgreSQL"), an instance holding a cached project key goes
 * on reading and writing correctly after another instance rotated it (Key rotation, DEK cache), and a
 * read's project/environment resolution is cached for 5 seconds, and no longer (Performance).
 */
describe('two app instances on one database: shared counters and caches', () => {
  let ctx: TestContext;
  let a: HttpClient;
  let b: HttpClient;
  let owner: TestUser;
  let org: TestOrg;
  const as = () => ({ session: owner.session });
  /** A pull's answer as { KEY: value }. */
  const valuesOf = (res: { status: number; body: any }) => {
    expect(res.status).toBe(200);
    return Object.fromEntries((res.body.secrets as Array<{ key: string; value: string }>).map((s) => [s.key, s.value]));
  };

  beforeAll(async () => {
    const limits = { LOGIN_RATE_LIMIT_PER_ACCOUNT: '4', MAIL_RATE_LIMIT_PER_ADDRESS: '2', MAIL_RATE_LIMIT_PER_IP: '1000' };
    ctx = await startTestContext(limits);
    a = ctx.api;
    b = (await ctx.startInstance()).http;
    owner = await registerUser(a, 'instances');
    org = await createOrg(a, owner, 'Instances');
  });
  afterAll(() => ctx.close());

  it('counts login attempts per account across instances: the limit holds whichever instance each attempt reaches', async () => {
    const user = await registerUser(a, 'counted'); // its sign-in is the first of the 4 attempts
    const login = (api: HttpClient) => api.post('/v1/auth/login', { email: user.email, password: user.password });
    expect((await login(b)).status).toBe(200);
    expect((await login(a)).status).toBe(200);
    expect((await login(b)).status).toBe(200);
    // Each instance has seen only 2 of the 4: the fifth is refused on both because the count is shared.
    const refusedOnA = await login(a);
    const refusedOnB = await login(b);
    expect([refusedOnA.status, refusedOnB.status]).toEqual([429, 429]);
    expect(refusedOnB.body.code).toBe('rate_limited');
  });

  it('counts forgot-password requests per address across instances', async () => {
    const user = await registerUser(a, 'forgetful');
    const forgot = (api: HttpClient) => api.post('/v1/auth/forgot-password', { email: user.email });
    expect((await forgot(a)).status).toBe(202);
    expect((await forgot(b)).status).toBe(202);
    expect((await forgot(a)).status).toBe(429);
    expect((await forgot(b)).status).toBe(429);
  });

  it('an instance holding the cached project key still reads and writes correctly after another instance rotated it', async () => {
    const project = await createProject(a, owner, org);
    const path = secretsPath(org, project, 'development');
    // B writes and reads with DEK 1, which it unwraps and caches (DEK_CACHE_TTL_SECONDS is 300: it stays
    // cached through the test); A rotates.
    await seedSecrets(b, as(), org, project, 'development', { BEFORE: 'before-rotation' });
    expect(valuesOf(await b.get(path, as()))).toEqual({ BEFORE: 'before-rotation' });

    const rotated = await a.post(`/v1/projects/${org.id}/${project.slug}/rotate-key`, undefined, as());
    expect(rotated.status).toBe(200);
    const { rows: keys } = await ctx.db.query('SELECT version, wrapped_key IS NULL AS destroyed FROM project_keys WHERE project_id = $1 ORDER BY version', [
      project.id,
    ]);
    expect(keys).toEqual([
      { version: 1, destroyed: true },
      { version: 2, destroyed: false },
    ]);

    expect(valuesOf(await b.get(path, as()))).toEqual({ BEFORE: 'before-rotation' });
    expect((await b.put(path, { key: 'AFTER', value: 'written-by-b' }, as())).status).toBe(200);
    const { rows } = await ctx.db.query(
      `SELECT s.key, v.key_version FROM secret_versions v JOIN secrets s ON s.id = v.secret_id WHERE s.project_id = $1 ORDER BY s.key`,
      [project.id],
    );
    expect(rows).toEqual([
      { key: 'AFTER', key_version: 2 },
      { key: 'BEFORE', key_version: 2 },
    ]);
    expect(valuesOf(await a.get(path, as()))).toEqual({ AFTER: 'written-by-b', BEFORE: 'before-rotation' });
    expect(valuesOf(await b.get(path, as()))).toEqual({ AFTER: 'written-by-b', BEFORE: 'before-rotation' });
  });

  describe('the read cache of project/environment resolution', () => {
    afterAll(() => {
      jest.useRealTimers();
    });

    it('serves a deleted project as empty for 5 seconds after its last resolution, and answers 404 from then on', async () => {
      const project = await createProject(a, owner, org);
      const path = secretsPath(org, project, 'development');
      await seedSecrets(a, as(), org, project, 'development', { CACHED: 'value' });
      // Only Date is faked, and frozen: the cache reads Date.now(), so the test decides when 5 seconds have passed.
      const start = Date.now();
      jest.useFakeTimers({
        now: start,
        doNotFake: [
          'hrtime',
          'nextTick',
          'performance',
          'queueMicrotask',
          'setImmediate',
          'clearImmediate',
          'setInterval',
          'clearInterval',
          'setTimeout',
          'clearTimeout',
        ],
      });
      expect(valuesOf(await b.get(path, as()))).toEqual({ CACHED: 'value' }); // resolved and cached at `start`
      expect((await a.delete(`/v1/projects/${org.id}/${project.slug}`, as())).status).toBe(204);

      jest.setSystemTime(start + 4_999);
      const stale = await b.get(path, as());
      expect(valuesOf(stale)).toEqual({});
      expect((await a.get(path, as())).status).toBe(404); // an instance without the cache entry sees the deletion

      jest.setSystemTime(start + 5_000);
      const expired = await b.get(path, as());
      expect(expired.status).toBe(404);
      expect(expired.body.code).toBe('not_found');
    });
  });
});
