import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createOrg, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { createProject, secretsPath, seedSecrets, type TestProject } from './factories/vault.js';
import { startTestContext, type TestContext } from './support/test-app.js';

/** DESIGN.md §4: values are AES-256-GCM ciphertext bound to their project and key name. */
describe('encryption at rest', () => {
  let ctx: TestContext;
  let owner: TestUser;
  let org: TestOrg;
  beforeAll(async () => {
    ctx = await startTestContext({ DECRYPT_WORKERS: '1' }); // large pulls decrypt on a worker thread, whatever the cores
    owner = await registerUser(ctx.api, 'crypto');
    org = await createOrg(ctx.api, owner, 'Crypto');
  });
  afterAll(() => ctx.close());
  const as = () => ({ session: owner.session });

  async function storedCiphertext(project: TestProject, env: string, key: string): Promise<{ secretId: string; ciphertext: Buffer }> {
    const { rows } = await ctx.db.query(
      `SELECT v.secret_id, v.ciphertext FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
         JOIN environments e ON e.id = s.environment_id
        WHERE s.project_id = $1 AND e.slug = $2 AND s.key = $3 AND v.version = s.current_version`,
      [project.id, env, key],
    );
    return { secretId: rows[0].secret_id, ciphertext: rows[0].ciphertext };
  }

  it('stores no plaintext value anywhere in the database', async () => {
    const marker = `plaintext-marker-${randomBytes(8).toString('hex')}`;
    const project = await createProject(ctx.api, owner, org);
    expect((await ctx.api.put(secretsPath(org, project, 'development'), { key: 'FIRST', value: `${marker}-v1` }, as())).status).toBe(200);
    expect((await ctx.api.put(secretsPath(org, project, 'development'), { key: 'FIRST', value: `${marker}-v2` }, as())).status).toBe(200);
    await seedSecrets(ctx.api, as(), org, project, 'production', { BULK: `${marker}-bulk` });
    // The marker is stored (and read back through the app), so the scan below has something to miss.
    const pulled = await ctx.api.get(secretsPath(org, project, 'development'), as());
    expect(pulled.status).toBe(200);
    expect(pulled.body.secrets).toEqual([expect.objectContaining({ key: 'FIRST', value: `${marker}-v2` })]);
    const history = await ctx.api.get(`${secretsPath(org, project, 'development')}/versions/FIRST`, as());
    expect(history.status).toBe(200);
    expect(history.body.versions.map((v: { value: string }) => v.value)).toEqual([`${marker}-v2`, `${marker}-v1`]);

    const { rows: tables } = await ctx.db.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
    const hex = Buffer.from(marker).toString('hex');
    const found: string[] = [];
    for (const { tablename } of tables) {
      // Every row as text: bytea columns show as hex, so look for the hex form of the marker too.
      const { rows } = await ctx.db.query(`SELECT count(*)::int AS n FROM ${tablename} t WHERE t::text LIKE $1 OR t::text LIKE $2`, [
        `%${marker}%`,
        `%${hex}%`,
      ]);
      if (rows[0].n) found.push(tablename);
    }
    expect(tables.length).toBeGreaterThan(10);
    expect(found).toEqual([]);
  });

  it('stores each value as iv | ciphertext | tag under a recorded key version', async () => {
    const project = await createProject(ctx.api, owner, org);
    const value = 'x'.repeat(100);
    await ctx.api.put(secretsPath(org, project, 'development'), { key: 'SIZED', value }, as());
    const { ciphertext } = await storedCiphertext(project, 'development', 'SIZED');
    expect(ciphertext.length).toBe(12 + value.length + 16);
    const { rows } = await ctx.db.query('SELECT key_version FROM secret_versions WHERE project_id = $1', [project.id]);
    expect(rows).toEqual([{ key_version: 1 }]);
  });

  it('fails to decrypt a ciphertext moved to another key name, with a clear error and no value', async () => {
    const project = await createProject(ctx.api, owner, org);
    await seedSecrets(ctx.api, as(), org, project, 'development', { SOURCE: 'moved-value', TARGET: 'target-value' });
    const source = await storedCiphertext(project, 'development', 'SOURCE');
    const target = await storedCiphertext(project, 'development', 'TARGET');
    await ctx.db.query('UPDATE secret_versions SET ciphertext = $1 WHERE secret_id = $2', [source.ciphertext, target.secretId]);

    const res = await ctx.api.get(secretsPath(org, project, 'development'), as());
    expect(res.status).toBe(500);
    expect(res.body.message).toMatch(/'TARGET' failed authentication/);
    expect(res.text).not.toContain('moved-value');
    expect(res.text).not.toContain('target-value');
  });

  it('decrypts a large pull on the worker threads, and fails it the same way when one value was moved', async () => {
    const project = await createProject(ctx.api, owner, org);
    const seeded = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`MANY_${String(i).padStart(2, '0')}`, `many-value-${i}`]));
    await seedSecrets(ctx.api, as(), org, project, 'development', seeded);
    const pulled = await ctx.api.get(secretsPath(org, project, 'development'), as());
    expect(Object.fromEntries(pulled.body.secrets.map((s: { key: string; value: string }) => [s.key, s.value]))).toEqual(seeded);

    const source = await storedCiphertext(project, 'development', 'MANY_03');
    const target = await storedCiphertext(project, 'development', 'MANY_17');
    await ctx.db.query('UPDATE secret_versions SET ciphertext = $1 WHERE secret_id = $2', [source.ciphertext, target.secretId]);
    const res = await ctx.api.get(secretsPath(org, project, 'development'), as());
    expect(res.status).toBe(500);
    expect(res.body.message).toMatch(/'MANY_17' failed authentication/);
    expect(res.text).not.toContain('many-value');
  });

  it('fails to decrypt a ciphertext moved to another project', async () => {
    const a = await createProject(ctx.api, owner, org);
    const b = await createProject(ctx.api, owner, org);
    await seedSecrets(ctx.api, as(), org, a, 'development', { SAME_KEY: 'from-a' });
    await seedSecrets(ctx.api, as(), org, b, 'development', { SAME_KEY: 'from-b' });
    const fromA = await storedCiphertext(a, 'development', 'SAME_KEY');
    const inB = await storedCiphertext(b, 'development', 'SAME_KEY');
    await ctx.db.query('UPDATE secret_versions SET ciphertext = $1 WHERE secret_id = $2', [fromA.ciphertext, inB.secretId]);

    const res = await ctx.api.get(secretsPath(org, b, 'development'), as());
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('from-a');
  });

  it('decrypts a ciphertext copied to another environment of the same project (what promotion relies on)', async () => {
    const project = await createProject(ctx.api, owner, org);
    await seedSecrets(ctx.api, as(), org, project, 'development', { SHARED: 'dev-value' });
    await seedSecrets(ctx.api, as(), org, project, 'staging', { SHARED: 'staging-value' });
    const dev = await storedCiphertext(project, 'development', 'SHARED');
    const stg = await storedCiphertext(project, 'staging', 'SHARED');
    await ctx.db.query('UPDATE secret_versions SET ciphertext = $1 WHERE secret_id = $2', [dev.ciphertext, stg.secretId]);
    const res = await ctx.api.get(secretsPath(org, project, 'staging'), as());
    expect(res.body.secrets[0].value).toBe('dev-value');
  });

  it.each([
    ['the IV', 0],
    ['the ciphertext', 14],
    ['the tag', -1],
  ])('fails to decrypt when one byte of %s is flipped', async (_part, index) => {
    const project = await createProject(ctx.api, owner, org);
    await seedSecrets(ctx.api, as(), org, project, 'development', { FLIPPED: 'a value long enough to flip' });
    const { secretId, ciphertext } = await storedCiphertext(project, 'development', 'FLIPPED');
    const i = index < 0 ? ciphertext.length + index : index;
    ciphertext[i] ^= 0x80;
    await ctx.db.query('UPDATE secret_versions SET ciphertext = $1 WHERE secret_id = $2', [ciphertext, secretId]);

    const res = await ctx.api.get(secretsPath(org, project, 'development'), as());
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ code: 'internal_error', message: expect.stringMatching(/'FLIPPED' failed authentication/) });
    expect(res.text).not.toContain('a value long enough');
  });

  it('gives every project its own data key, stored only wrapped', async () => {
    const a = await createProject(ctx.api, owner, org);
    const b = await createProject(ctx.api, owner, org);
    const { rows } = await ctx.db.query('SELECT project_id, provider, master_key, wrapped_key FROM project_keys WHERE project_id = ANY($1)', [[a.id, b.id]]);
    expect(rows).toHaveLength(2);
    expect(rows[0].wrapped_key.equals(rows[1].wrapped_key)).toBe(false);
    // 12-byte IV + 32-byte key + 16-byte tag: the DEK is wrapped, never stored as 32 raw bytes.
    for (const row of rows) {
      expect(row).toMatchObject({ provider: 'local', master_key: expect.stringMatching(/^local:[0-9a-f]{16}$/) });
      expect(row.wrapped_key.length).toBe(60);
    }
  });
});
