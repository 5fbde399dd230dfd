import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { addMember, createOrg, DEFAULT_PASSWORD, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { createProject, secretsPath, seedSecrets, type TestProject } from './factories/vault.js';
import { HttpClient, sessionFrom, type Response } from './support/http.js';
import { freePort, launchServer, waitForOutput } from './support/server-process.js';
import { startTestContext, TEST_MASTER_KEY, TEST_SESSION_SECRET, type TestContext } from './support/test-app.js';
import { createTestDatabase } from './support/test-database.js';
import { until } from './support/until.js';

const values = (n: number, prefix: string, tag: string) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}_${String(i).padStart(4, '0')}`, `${tag}-${i}`]));

async function keyVersions(db: { query: TestContext['db']['query'] }, projectId: string): Promise<Record<number, number>> {
  const { rows } = await db.query('SELECT key_version, count(*)::int AS n FROM secret_versions WHERE project_id = $1 GROUP BY key_version', [projectId]);
  return Object.fromEntries(rows.map((r) => [r.key_version, r.n]));
}

describe('key rotation', () => {
  let ctx: TestContext;
  let owner: TestUser;
  let org: TestOrg;
  beforeAll(async () => {
    ctx = await startTestContext({ ROTATION_BATCH_SIZE: '25' });
    owner = await registerUser(ctx.api, 'rotator');
    org = await createOrg(ctx.api, owner, 'Rotation');
  });
  afterAll(() => ctx.close());
  const as = () => ({ session: owner.session });

  it('re-encrypts every current and historical value under a new key version, then destroys the old key', async () => {
    const project = await createProject(ctx.api, owner, org);
    await seedSecrets(ctx.api, as(), org, project, 'development', values(30, 'K', 'first'));
    await seedSecrets(ctx.api, as(), org, project, 'production', values(30, 'K', 'second'));
    await seedSecrets(ctx.api, as(), org, project, 'development', values(10, 'K', 'updated'));
    const before = await ctx.db.query('SELECT secret_id, version, ciphertext FROM secret_versions WHERE project_id = $1', [project.id]);

    const res = await ctx.api.post(`/v1/projects/${org.id}/${project.slug}/rotate-key`, undefined, as());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ keyVersion: 2, reencrypted: 70, destroyedVersions: [1], resumed: false });

    expect(await keyVersions(ctx.db, project.id)).toEqual({ 2: 70 });
    const after = await ctx.db.query('SELECT secret_id, version, ciphertext FROM secret_versions WHERE project_id = $1', [project.id]);
    const old = new Map(before.rows.map((r) => [`${r.secret_id}:${r.version}`, r.ciphertext as Buffer]));
    for (const row of after.rows) expect(row.ciphertext.equals(old.get(`${row.secret_id}:${row.version}`))).toBe(false);
    const { rows: keys } = await ctx.db.query('SELECT version, wrapped_key IS NULL AS destroyed FROM project_keys WHERE project_id = $1 ORDER BY version', [
      project.id,
    ]);
    expect(keys).toEqual([
      { version: 1, destroyed: true },
      { version: 2, destroyed: false },
    ]);

    const dev = await ctx.api.get(secretsPath(org, project, 'development'), as());
    expect(dev.body.secrets.find((s: { key: string }) => s.key === 'K_0003').value).toBe('updated-3');
    expect(dev.body.secrets.find((s: { key: string }) => s.key === 'K_0020').value).toBe('first-20');
    const history = await ctx.api.get(`${secretsPath(org, project, 'development')}/versions/K_0003`, as());
    expect(history.body.versions.map((v: { value: string }) => v.value)).toEqual(['updated-3', 'first-3']);
    expect((await ctx.api.get(`/v1/projects/${org.id}/${project.slug}`, as())).body.keyVersion).toBe(2);
  });

  it('rotates again from version 2 to 3', async () => {
    const project = await createProject(ctx.api, owner, org);
    await seedSecrets(ctx.api, as(), org, project, 'staging', { ONLY: 'one' });
    await ctx.api.post(`/v1/projects/${org.id}/${project.slug}/rotate-key`, undefined, as());
    const res = await ctx.api.post(`/v1/projects/${org.id}/${project.slug}/rotate-key`, undefined, as());
    expect(res.body).toMatchObject({ keyVersion: 3, destroyedVersions: [2], reencrypted: 1 });
    expect((await ctx.api.get(secretsPath(org, project, 'staging'), as())).body.secrets[0].value).toBe('one');
  });

  it('keeps pulls and writes working while a rotation runs', async () => {
    const project = await createProject(ctx.api, owner, org);
    const seeded = values(200, 'LIVE', 'v');
    await seedSecrets(ctx.api, as(), org, project, 'development', seeded);
    const path = secretsPath(org, project, 'development');

    // Hold the rotation part-way: ten values stay locked under key version 1 (the rotation skips locked
    // rows and comes back for them), so the pulls and writes below run against a half-rotated project.
    const holder = await ctx.db.connect();
    let rotation: Promise<Response> | undefined;
    try {
      await holder.query('BEGIN');
      const locked = await holder.query(
        `SELECT v.secret_id FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
          WHERE v.project_id = $1 AND s.key LIKE 'LIVE_000%' FOR UPDATE OF v`,
        [project.id],
      );
      expect(locked.rowCount).toBe(10);
      rotation = ctx.api.post(`/v1/projects/${org.id}/${project.slug}/rotate-key`, undefined, as());
      const deadline = Date.now() + 30_000;
      while ((await keyVersions(ctx.db, project.id))[2] !== 190) {
        if (Date.now() > deadline)
          throw new Error(`the rotation did not re-encrypt the unlocked values: ${JSON.stringify(await keyVersions(ctx.db, project.id))}`);
        await new Promise((r) => setTimeout(r, 10));
      }

      const problems: string[] = [];
      const pulls = await Promise.all(Array.from({ length: 4 }, () => ctx.api.get(`${path}?search=LIVE_00&limit=100`, as())));
      for (const res of pulls) {
        if (res.status !== 200) problems.push(`pull ${res.status} ${res.text}`);
        else if (res.body.secrets.length !== 100 || res.body.secrets.some((s: { key: string; value: string }) => s.value !== seeded[s.key]))
          problems.push('pull returned a wrong value');
      }
      for (let i = 0; i < 5; i++) {
        const res = await ctx.api.put(path, { key: `DURING_${i}`, value: `written-${i}` }, as());
        if (res.status !== 200) problems.push(`write ${res.status} ${res.text}`);
      }
      expect(problems).toEqual([]);
      // All of that happened mid-rotation: both key versions live, values under each.
      const { rows: keys } = await ctx.db.query('SELECT version, wrapped_key IS NOT NULL AS live FROM project_keys WHERE project_id = $1 ORDER BY version', [
        project.id,
      ]);
      expect(keys).toEqual([
        { version: 1, live: true },
        { version: 2, live: true },
      ]);
      expect(await keyVersions(ctx.db, project.id)).toEqual({ 1: 10, 2: 195 });
      await holder.query('COMMIT');
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
    }
    const res = await rotation;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ keyVersion: 2, destroyedVersions: [1] });

    // Everything — seeded and written mid-rotation — is under the new key and reads back.
    expect(await keyVersions(ctx.db, project.id)).toEqual({ 2: 205 });
    const all = await ctx.api.get(path, as());
    for (let i = 0; i < 5; i++) {
      expect(all.body.secrets.find((s: { key: string }) => s.key === `DURING_${i}`)?.value).toBe(`written-${i}`);
    }
  });

  it('is refused to developers and viewers', async () => {
    const project = await createProject(ctx.api, owner, org);
    for (const role of ['developer', 'viewer'] as const) {
      const member = await registerUser(ctx.api, role);
      await addMember(ctx.api, org, owner, member, role);
      const res = await ctx.api.post(`/v1/projects/${org.id}/${project.slug}/rotate-key`, undefined, { session: member.session });
      expect(res.status).toBe(403);
    }
    expect((await ctx.db.query('SELECT count(*)::int AS n FROM project_keys WHERE project_id = $1', [project.id])).rows[0].n).toBe(1);
  });
});

describe('a rotation cut short by SIGKILL', () => {
  it('leaves every value readable, and the next rotate-key finishes it', async () => {
    const databaseUrl = await createTestDatabase();
    const port = String(await freePort());
    const env = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      PORT: port,
      DATABASE_URL: databaseUrl,
      SESSION_SECRET: TEST_SESSION_SECRET,
      SECR_MASTER_KEY: TEST_MASTER_KEY,
      ROTATION_BATCH_SIZE: '20',
      // Required in production; this test sends no mail.
      SMTP_URL: 'smtp://127.0.0.1:9',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
    };
    const api = new HttpClient(`http://127.0.0.1:${port}`);
    let server = launchServer(env);
    try {
      await waitForOutput(server, 'listening');
      const { session, personalOrg: org } = await registerUser(api, 'K', 'killer@example.com');
      const project: TestProject = await createProject(api, { session } as TestUser, org);
      const expected: Record<string, string> = {};
      for (const [env, tag] of [
        ['development', 'd'],
        ['staging', 's'],
        ['production', 'p'],
      ] as const) {
        const batch = values(100, 'KEY', tag);
        await seedSecrets(api, { session }, org, project, env, batch);
        Object.assign(expected, Object.fromEntries(Object.entries(batch).map(([k, v]) => [`${env}/${k}`, v])));
      }
      const pg = (await import('pg')).default;
      const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
      // The production values stay locked by this test's transaction: the rotation's batches skip them
      // (FOR UPDATE SKIP LOCKED) and it cannot finish, so the kill lands part-way whatever the machine's
      // speed (a race against 3,000 values in 150 batches did the same, at ten times the work).
      const holder = await db.connect();
      try {
        await holder.query('BEGIN');
        const held = await holder.query(
          `SELECT 1 FROM secret_versions v JOIN secrets s ON s.id = v.secret_id JOIN environments e ON e.id = s.environment_id
            WHERE v.project_id = $1 AND e.slug = 'production' FOR UPDATE OF v`,
          [project.id],
        );
        expect(held.rowCount).toBe(100);
        void api.post(`/v1/projects/${org.id}/${project.slug}/rotate-key`, undefined, { session }).catch(() => undefined);
        // Every value it may re-encrypt is under v2: the rotation is now waiting on the held rows.
        await until('the unlocked values re-encrypted', async () => ((await keyVersions(db, project.id))[2] ?? 0) === 200, 60_000);
        server.child.kill('SIGKILL');
        await server.exited;
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined);
        holder.release();
      }
      try {
        expect(await keyVersions(db, project.id)).toEqual({ 1: 100, 2: 200 });

        server = launchServer(env);
        await waitForOutput(server, 'listening');
        const login = await api.post('/v1/auth/login', { email: 'killer@example.com', password: DEFAULT_PASSWORD });
        const fresh = { session: sessionFrom(login) };
        const readAll = async () => {
          const got: Record<string, string> = {};
          for (const env of ['development', 'staging', 'production']) {
            const res = await api.get(secretsPath(org, project, env), fresh);
            expect(res.status).toBe(200);
            for (const s of res.body.secrets as Array<{ key: string; value: string }>) got[`${env}/${s.key}`] = s.value;
          }
          return got;
        };
        expect(await readAll()).toEqual(expected);

        const finish = await api.post(`/v1/projects/${org.id}/${project.slug}/rotate-key`, undefined, fresh);
        expect(finish.status).toBe(200);
        expect(finish.body).toMatchObject({ keyVersion: 2, resumed: true, destroyedVersions: [1] });
        expect(await keyVersions(db, project.id)).toEqual({ 2: 300 });
        expect(await readAll()).toEqual(expected);
      } finally {
        await db.end();
      }
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  });
});
