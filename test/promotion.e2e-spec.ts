import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { ProjectKeys } from '../src/modules/keys/project-keys.service.js';
import { addMember, createOrg, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { createProject, secretsPath, seedSecrets, type TestProject } from './factories/vault.js';
import { startInProcessTestContext as startTestContext, type InProcessTestContext as TestContext } from './support/in-process-app.js';

/** spec 000: copy secrets between environments; ciphertext copied, never decrypted or re-encrypted. */
describe('promotion', () => {
  let ctx: TestContext;
  let owner: TestUser;
  let org: TestOrg;
  beforeAll(async () => {
    ctx = await startTestContext();
    owner = await registerUser(ctx.api, 'promoter');
    org = await createOrg(ctx.api, owner, 'Promotion');
  });
  afterAll(() => ctx.close());
  const as = () => ({ session: owner.session });
  const promote = (project: TestProject, body: Record<string, unknown>, credentials: { session?: string; token?: string } = as()) =>
    ctx.api.post(`/v1/secrets/${org.slug}/${project.slug}/promote`, body, credentials);
  const values = async (project: TestProject, env: string) =>
    Object.fromEntries(
      ((await ctx.api.get(secretsPath(org, project, env), as())).body.secrets as Array<{ key: string; value: string }>).map((s) => [s.key, s.value]),
    );

  async function seeded(): Promise<TestProject> {
    const project = await createProject(ctx.api, owner, org);
    await seedSecrets(ctx.api, as(), org, project, 'staging', { DATABASE_URL: 'stg-db', REDIS_URL: 'stg-redis', API_KEY: 'stg-api' });
    await seedSecrets(ctx.api, as(), org, project, 'production', { DATABASE_URL: 'prod-db' });
    return project;
  }

  it('creates missing keys and skips existing ones when overwrite is false', async () => {
    const project = await seeded();
    const res = await promote(project, { fromEnv: 'staging', toEnv: 'production' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      promoted: 2,
      created: 2,
      updated: 0,
      skipped: 1,
      dryRun: false,
      results: [
        { key: 'API_KEY', action: 'created', difference: 'new' },
        { key: 'DATABASE_URL', action: 'skipped', difference: 'changed' },
        { key: 'REDIS_URL', action: 'created', difference: 'new' },
      ],
    });
    expect(await values(project, 'production')).toEqual({ API_KEY: 'stg-api', DATABASE_URL: 'prod-db', REDIS_URL: 'stg-redis' });
  });

  it('updates existing keys with a new version when overwrite is true', async () => {
    const project = await seeded();
    const res = await promote(project, { fromEnv: 'stg', toEnv: 'prod', overwrite: true });
    expect(res.body).toMatchObject({ promoted: 3, created: 2, updated: 1, skipped: 0 });
    expect(await values(project, 'production')).toEqual({ API_KEY: 'stg-api', DATABASE_URL: 'stg-db', REDIS_URL: 'stg-redis' });
    const history = await ctx.api.get(`${secretsPath(org, project, 'production')}/versions/DATABASE_URL`, as());
    expect(history.body.versions.map((v: { version: number; source: string; value: string }) => [v.version, v.source, v.value])).toEqual([
      [2, 'promote', 'stg-db'],
      [1, 'import', 'prod-db'],
    ]);
  });

  it('promotes only the listed keys', async () => {
    const project = await seeded();
    const res = await promote(project, { fromEnv: 'staging', toEnv: 'development', keys: ['REDIS_URL'] });
    expect(res.body).toMatchObject({ promoted: 1, created: 1, results: [{ key: 'REDIS_URL', action: 'created' }] });
    expect(await values(project, 'development')).toEqual({ REDIS_URL: 'stg-redis' });
  });

  it('copies the stored ciphertext byte for byte, under its original key version', async () => {
    const project = await seeded();
    await promote(project, { fromEnv: 'staging', toEnv: 'production', keys: ['API_KEY'] });
    const { rows } = await ctx.db.query(
      `SELECT e.slug, v.ciphertext, v.key_version FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
         JOIN environments e ON e.id = s.environment_id WHERE s.project_id = $1 AND s.key = 'API_KEY'`,
      [project.id],
    );
    const bySlug = Object.fromEntries(rows.map((r) => [r.slug, r]));
    expect(bySlug.production.ciphertext.equals(bySlug.staging.ciphertext)).toBe(true);
    expect(bySlug.production.key_version).toBe(bySlug.staging.key_version);
  });

  it('copies a value still under an older key version as it is, and it reads back', async () => {
    const project = await seeded();
    // A rotation that has begun and not finished: key v2 is current, the values are still under v1.
    const keys = ctx.instances[0].app.get(ProjectKeys);
    await ctx.instances[0].app.get(DataSource).transaction(async (em) => {
      await keys.create(em, project.id, 2);
      await em.query('UPDATE projects SET current_key_version = 2 WHERE id = $1', [project.id]);
    });
    await seedSecrets(ctx.api, as(), org, project, 'staging', { NEW_KEY_VALUE: 'written-under-v2' });

    const res = await promote(project, { fromEnv: 'staging', toEnv: 'development', keys: ['REDIS_URL', 'NEW_KEY_VALUE'] });
    expect(res.body.created).toBe(2);
    const { rows } = await ctx.db.query(
      `SELECT s.key, v.key_version FROM secret_versions v JOIN secrets s ON s.id = v.secret_id JOIN environments e ON e.id = s.environment_id
        WHERE s.project_id = $1 AND e.slug = 'development' ORDER BY s.key`,
      [project.id],
    );
    expect(rows).toEqual([
      { key: 'NEW_KEY_VALUE', key_version: 2 },
      { key: 'REDIS_URL', key_version: 1 },
    ]);
    expect(await values(project, 'development')).toEqual({ NEW_KEY_VALUE: 'written-under-v2', REDIS_URL: 'stg-redis' });
    // Finishing the rotation re-encrypts the copy too.
    const rotated = await ctx.api.post(`/v1/projects/${org.id}/${project.slug}/rotate-key`, undefined, as());
    expect(rotated.body).toMatchObject({ keyVersion: 2, resumed: true, destroyedVersions: [1] });
    expect(await values(project, 'development')).toEqual({ NEW_KEY_VALUE: 'written-under-v2', REDIS_URL: 'stg-redis' });
  });

  it('answers a dry run with exactly what a real run then does, and changes nothing', async () => {
    const project = await seeded();
    const count = async () => (await ctx.db.query('SELECT count(*)::int AS n FROM secret_versions WHERE project_id = $1', [project.id])).rows[0].n;
    const audits = async () => (await ctx.db.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'secret.promote'`)).rows[0].n;
    const [versionsBefore, auditsBefore] = [await count(), await audits()];
    const dry = await promote(project, { fromEnv: 'staging', toEnv: 'production', overwrite: true, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body.dryRun).toBe(true);
    expect([await count(), await audits()]).toEqual([versionsBefore, auditsBefore]);
    expect(await values(project, 'production')).toEqual({ DATABASE_URL: 'prod-db' });

    const real = await promote(project, { fromEnv: 'staging', toEnv: 'production', overwrite: true });
    expect({ ...real.body, dryRun: true }).toEqual(dry.body);
  });

  it('tells a caller who may not read the target nothing about its values (`exists`), and audits every dry run', async () => {
    const project = await createProject(ctx.api, owner, org);
    await seedSecrets(ctx.api, as(), org, project, 'production', { DB_PASSWORD: 'hunter2-prod' });
    const dev = await registerUser(ctx.api, 'guesser');
    await addMember(ctx.api, org, owner, dev, 'developer');
    const asDev = { session: dev.session };
    const dryRuns = async () =>
      (await ctx.db.query(`SELECT metadata FROM audit_events WHERE action = 'secret.promote_dry_run' AND metadata->>'projectId' = $1`, [project.id])).rows;

    // A developer writes a guess to staging and plans its promotion to production: a right guess and a
    // wrong one get the same answer.
    const answers: Record<string, unknown> = {};
    for (const guess of ['wrong-guess', 'hunter2-prod']) {
      await seedSecrets(ctx.api, asDev, org, project, 'staging', { DB_PASSWORD: guess });
      for (const overwrite of [false, true]) {
        const res = await promote(project, { fromEnv: 'staging', toEnv: 'production', keys: ['DB_PASSWORD'], overwrite, dryRun: true }, asDev);
        expect(res.status).toBe(200);
        answers[`${guess}, overwrite ${overwrite}`] = res.body.results;
      }
    }
    expect(answers).toEqual({
      'wrong-guess, overwrite false': [{ key: 'DB_PASSWORD', action: 'skipped', difference: 'exists' }],
      'wrong-guess, overwrite true': [{ key: 'DB_PASSWORD', action: 'updated', difference: 'exists' }],
      'hunter2-prod, overwrite false': [{ key: 'DB_PASSWORD', action: 'skipped', difference: 'exists' }],
      'hunter2-prod, overwrite true': [{ key: 'DB_PASSWORD', action: 'updated', difference: 'exists' }],
    });
    const planned = await dryRuns();
    expect(planned).toHaveLength(4);
    expect(planned[0].metadata).toMatchObject({ fromEnvironment: 'staging', toEnvironment: 'production', overwrite: false, skipped: ['DB_PASSWORD'] });
    expect(JSON.stringify(planned)).not.toMatch(/hunter2|wrong-guess/);

    // The real promotion does what the dry run said (spec 000: an existing key is updated with overwrite):
    // the same value is written as a new version rather than skipped as identical.
    const real = await promote(project, { fromEnv: 'staging', toEnv: 'production', keys: ['DB_PASSWORD'], overwrite: true }, asDev);
    expect(real.body).toMatchObject({ promoted: 1, updated: 1, skipped: 0, results: [{ key: 'DB_PASSWORD', action: 'updated', difference: 'exists' }] });
    const history = await ctx.api.get(`${secretsPath(org, project, 'production')}/versions/DB_PASSWORD`, as());
    expect(history.body.versions.map((v: { version: number; source: string }) => [v.version, v.source])).toEqual([
      [2, 'promote'],
      [1, 'import'],
    ]);

    // Owner and admin, who may read production, are told identical or changed, as before; their dry runs are audited too.
    const admin = await registerUser(ctx.api, 'reader');
    await addMember(ctx.api, org, owner, admin, 'admin');
    for (const who of [as(), { session: admin.session }]) {
      const same = await promote(project, { fromEnv: 'staging', toEnv: 'production', keys: ['DB_PASSWORD'], overwrite: true, dryRun: true }, who);
      expect(same.body.results).toEqual([{ key: 'DB_PASSWORD', action: 'skipped', difference: 'identical' }]);
    }
    expect(await dryRuns()).toHaveLength(6);
  });

  it('writes one secret.promote audit row with counts and key names, never values', async () => {
    const project = await seeded();
    await promote(project, { fromEnv: 'staging', toEnv: 'production' });
    const { rows } = await ctx.db.query(`SELECT metadata FROM audit_events WHERE action = 'secret.promote' AND metadata->>'projectId' = $1`, [project.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].metadata).toMatchObject({
      fromEnvironment: 'staging',
      toEnvironment: 'production',
      promoted: 2,
      created: ['API_KEY', 'REDIS_URL'],
      skipped: ['DATABASE_URL'],
    });
    expect(JSON.stringify(rows[0].metadata)).not.toMatch(/stg-/);
  });

  it('promotes thousands of keys in one atomic request', async () => {
    const project = await createProject(ctx.api, owner, org);
    const many = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`KEY_${i}`, `value-${i}`]));
    for (let i = 0; i < 3000; i += 1500) {
      await seedSecrets(ctx.api, as(), org, project, 'development', Object.fromEntries(Object.entries(many).slice(i, i + 1500)));
    }
    const res = await promote(project, { fromEnv: 'development', toEnv: 'staging' });
    expect(res.body).toMatchObject({ promoted: 3000, created: 3000 });
    const staged = await values(project, 'staging');
    expect(Object.keys(staged)).toHaveLength(3000);
    expect(staged.KEY_2999).toBe('value-2999');
  });

  it('refuses keys missing from the source with 400 naming them, and changes nothing', async () => {
    const project = await seeded();
    const res = await promote(project, { fromEnv: 'staging', toEnv: 'production', keys: ['API_KEY', 'NOPE', 'ALSO_NOPE'] });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/NOPE, ALSO_NOPE/);
    expect(await values(project, 'production')).toEqual({ DATABASE_URL: 'prod-db' });
  });

  it.each([
    [{ fromEnv: 'staging', toEnv: 'staging' }, 400],
    [{ fromEnv: 'production', toEnv: 'prod' }, 400],
    [{ fromEnv: 'qa', toEnv: 'production' }, 404],
    [{ fromEnv: 'staging', toEnv: 'qa' }, 404],
  ])('answers %o with %i', async (body, status) => {
    const project = await seeded();
    expect((await promote(project, body)).status).toBe(status);
  });

  it('answers 404 for an unknown project', async () => {
    expect((await promote({ id: 'x', slug: 'no-such-project' }, { fromEnv: 'staging', toEnv: 'production' })).status).toBe(404);
  });

  it('needs read on the source tier and write on the target: a developer cannot promote production, a viewer nothing', async () => {
    const project = await seeded();
    const dev = await registerUser(ctx.api, 'dev');
    const viewer = await registerUser(ctx.api, 'viewer');
    await addMember(ctx.api, org, owner, dev, 'developer');
    await addMember(ctx.api, org, owner, viewer, 'viewer');
    expect((await promote(project, { fromEnv: 'production', toEnv: 'development' }, { session: dev.session })).status).toBe(403);
    expect((await promote(project, { fromEnv: 'staging', toEnv: 'production' }, { session: dev.session })).status).toBe(200);
    expect((await promote(project, { fromEnv: 'development', toEnv: 'staging' }, { session: viewer.session })).status).toBe(403);
  });
});
