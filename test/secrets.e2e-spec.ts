import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createOrg, createTeam, createToken, type OrgWithTeam, type TestUser } from './factories/accounts.js';
import { createProject, createVaultToken, secretsPath, seedSecrets, setSecret, type TestProject } from './factories/vault.js';
import type { Credentials } from './support/http.js';
import { startTestContext, type TestContext } from './support/test-app.js';

describe('secrets', () => {
  let ctx: TestContext;
  let team: OrgWithTeam;
  let owner: TestUser;
  let as: Credentials;

  beforeAll(async () => {
    ctx = await startTestContext();
    team = await createTeam(ctx.api);
    owner = team.owner;
    as = { session: owner.session };
  });
  afterAll(() => ctx.close());

  /** A fresh project of the team org, and the path of one of its environments. */
  async function project(): Promise<TestProject> {
    return createProject(ctx.api, owner, team.org);
  }
  const path = (p: TestProject, env = 'development') => secretsPath(team.org, p, env);

  async function pull(p: TestProject, env = 'development', credentials: Credentials = as) {
    const res = await ctx.api.get(path(p, env), credentials);
    expect(res.status).toBe(200);
    return res.body.secrets as Array<{ key: string; value: string; description: string | null; version: number; updatedAt: string }>;
  }

  async function history(p: TestProject, key: string, env = 'development') {
    const res = await ctx.api.get(`${path(p, env)}/versions/${key}`, as);
    expect(res.status).toBe(200);
    return res.body as {
      key: string;
      deleted: boolean;
      versions: Array<{
        version: number;
        value: string;
        description: string | null;
        source: string;
        createdAt: string;
        createdBy: { id: string; email: string } | null;
      }>;
    };
  }

  /** What is stored for a key, straight from the database: the secret row and its version numbers. */
  async function stored(p: TestProject, key: string, env = 'development') {
    const { rows } = await ctx.db.query(
      `SELECT s.current_version, s.deleted_at, array_agg(v.version ORDER BY v.version) AS versions
         FROM secrets s JOIN environments e ON e.id = s.environment_id
         LEFT JOIN secret_versions v ON v.secret_id = s.id
        WHERE s.project_id = $1 AND e.slug = $2 AND s.key = $3
        GROUP BY s.id`,
      [p.id, env, key],
    );
    return rows[0] as { current_version: number; deleted_at: Date | null; versions: number[] } | undefined;
  }

  async function countSecrets(p: TestProject): Promise<{ secrets: number; versions: number }> {
    const { rows } = await ctx.db.query(
      `SELECT (SELECT count(*)::int FROM secrets WHERE project_id = $1) AS secrets,
              (SELECT count(*)::int FROM secret_versions WHERE project_id = $1) AS versions`,
      [p.id],
    );
    return rows[0];
  }

  describe('set (PUT)', () => {
    it('creates version 1 of a new key, then version 2 of the same key', async () => {
      const p = await project();
      const first = await ctx.api.put(path(p), { key: 'API_KEY', value: 'one' }, as);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ key: 'API_KEY', version: 1, created: true, unchanged: false });
      const second = await ctx.api.put(path(p), { key: 'API_KEY', value: 'two' }, as);
      expect(second.status).toBe(200);
      expect(second.body).toEqual({ key: 'API_KEY', version: 2, created: false, unchanged: false });
      expect(await pull(p)).toEqual([expect.objectContaining({ key: 'API_KEY', value: 'two', version: 2 })]);
      expect(await stored(p, 'API_KEY')).toMatchObject({ current_version: 2, deleted_at: null, versions: [1, 2] });
    });

    it('keeps the description when it is omitted and replaces it when it is given', async () => {
      const p = await project();
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'DB_URL', value: 'v1', description: 'Primary database' });
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'DB_URL', value: 'v2' });
      expect((await pull(p))[0]).toMatchObject({ value: 'v2', description: 'Primary database', version: 2 });

      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'DB_URL', value: 'v3', description: 'Replica' });
      expect((await pull(p))[0]).toMatchObject({ value: 'v3', description: 'Replica', version: 3 });
      expect((await history(p, 'DB_URL')).versions.map((v) => v.description)).toEqual(['Replica', 'Primary database', 'Primary database']);
    });

    it('accepts a value of exactly 64 KiB (UTF-8 bytes) and refuses one byte more with 400, writing nothing', async () => {
      const p = await project();
      const ascii = 'x'.repeat(64 * 1024);
      const multibyte = 'é'.repeat(32 * 1024); // 2 bytes each: 64 KiB in 32 Ki characters
      expect((await ctx.api.put(path(p), { key: 'BIG_ASCII', value: ascii }, as)).status).toBe(200);
      expect((await ctx.api.put(path(p), { key: 'BIG_UTF8', value: multibyte }, as)).status).toBe(200);

      for (const value of [ascii + 'x', multibyte + 'x', 'é'.repeat(32 * 1024 + 1)]) {
        const res = await ctx.api.put(path(p), { key: 'TOO_BIG', value }, as);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ field: 'value' })] });
        expect(res.text).not.toContain(value.slice(0, 100));
      }
      const secrets = await pull(p);
      expect(secrets.map((s) => s.key)).toEqual(['BIG_ASCII', 'BIG_UTF8']);
      expect(secrets[0].value).toBe(ascii);
      expect(secrets[1].value).toBe(multibyte);
    });

    it('refuses a description over 1 KiB, a key that is not an identifier, and unknown body fields', async () => {
      const p = await project();
      const cases: Array<[unknown, string]> = [
        [{ key: 'K', value: 'v', description: 'd'.repeat(1025) }, 'description'],
        [{ key: '1ABC', value: 'v' }, 'key'],
        [{ key: 'MY-KEY', value: 'v' }, 'key'],
        [{ key: 'K'.repeat(257), value: 'v' }, 'key'],
        [{ key: 'K', value: 'v', version: 7 }, 'version'],
        [{ key: 'K', value: 42 }, 'value'],
      ];
      for (const [body, field] of cases) {
        const res = await ctx.api.put(path(p), body, as);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('validation_failed');
        expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      }
      expect((await ctx.api.put(path(p), { key: 'K', value: 'v', description: 'd'.repeat(1024) }, as)).status).toBe(200);
      expect(await countSecrets(p)).toEqual({ secrets: 1, versions: 1 });
    });
  });

  describe('pull and keys', () => {
    it('pulls exactly key, value, description, version and updatedAt of every live secret, decrypted and sorted by key', async () => {
      const p = await project();
      const unicode = 'pässwörd 🔐 秘密\nzweite Zeile\t"quoted" \\ back';
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'CHARLIE', value: 'c' });
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'ALPHA', value: 'first' });
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'BRAVO', value: unicode, description: 'Ünïcödé ✓' });
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'ALPHA', value: '' });

      const res = await ctx.api.get(path(p), as);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(Object.keys(res.body)).toEqual(['secrets']);
      const secrets = res.body.secrets;
      expect(secrets.map((s: { key: string }) => s.key)).toEqual(['ALPHA', 'BRAVO', 'CHARLIE']);
      for (const s of secrets) expect(Object.keys(s).sort()).toEqual(['description', 'key', 'updatedAt', 'value', 'version']);
      expect(secrets).toEqual([
        { key: 'ALPHA', value: '', description: null, version: 2, updatedAt: expect.any(String) },
        { key: 'BRAVO', value: unicode, description: 'Ünïcödé ✓', version: 1, updatedAt: expect.any(String) },
        { key: 'CHARLIE', value: 'c', description: null, version: 1, updatedAt: expect.any(String) },
      ]);

      // updatedAt is when the current version was written.
      const { rows } = await ctx.db.query(
        `SELECT s.key, v.created_at FROM secrets s JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.current_version
          WHERE s.project_id = $1 ORDER BY s.key`,
        [p.id],
      );
      expect(secrets.map((s: { updatedAt: string }) => s.updatedAt)).toEqual(rows.map((r) => r.created_at.toISOString()));
    });

    it('lists keys with description, version and updatedAt but never a value', async () => {
      const p = await project();
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'TOKEN', value: 'very-secret-value-123', description: 'A token' });
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'TOKEN', value: 'very-secret-value-456' });
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'OTHER', value: 'other-secret-value-789' });

      const res = await ctx.api.get(`${path(p)}/keys`, as);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body)).toEqual(['keys', 'environmentVersion']);
      expect(res.body.keys).toEqual([
        { key: 'OTHER', description: null, version: 1, updatedAt: expect.any(String) },
        { key: 'TOKEN', description: 'A token', version: 2, updatedAt: expect.any(String) },
      ]);
      expect(res.text).not.toMatch(/secret-value/);
      expect(res.text).not.toMatch(/"value"/);
    });

    it('answers to dev, stg and prod as the default environments, which stay separate', async () => {
      const p = await project();
      for (const [alias, env] of [
        ['dev', 'development'],
        ['stg', 'staging'],
        ['prod', 'production'],
      ]) {
        const res = await ctx.api.put(path(p, alias), { key: 'WHERE', value: env }, as);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ key: 'WHERE', version: 1, created: true, unchanged: false });
      }
      for (const [alias, env] of [
        ['dev', 'development'],
        ['stg', 'staging'],
        ['prod', 'production'],
      ]) {
        expect(await pull(p, env)).toEqual([expect.objectContaining({ key: 'WHERE', value: env, version: 1 })]);
        expect(await pull(p, alias)).toEqual([expect.objectContaining({ key: 'WHERE', value: env, version: 1 })]);
        expect((await ctx.api.get(`${path(p, alias)}/keys`, as)).body.keys).toEqual([expect.objectContaining({ key: 'WHERE' })]);
      }
      expect((await ctx.api.get(`${path(p, 'prod')}/versions/WHERE`, as)).body.versions).toEqual([
        expect.objectContaining({ version: 1, value: 'production' }),
      ]);
    });

    it('answers 404 naming an unknown environment, and 404 for an unknown project', async () => {
      const p = await project();
      const unknownEnv = [
        await ctx.api.get(path(p, 'qa'), as),
        await ctx.api.get(`${path(p, 'qa')}/keys`, as),
        await ctx.api.put(path(p, 'qa'), { key: 'K', value: 'v' }, as),
        await ctx.api.post(`${path(p, 'qa')}/bulk`, { secrets: [{ key: 'K', value: 'v' }] }, as),
        await ctx.api.get(`${path(p, 'qa')}/versions/K`, as),
      ];
      for (const res of unknownEnv) {
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({ statusCode: 404, code: 'not_found', message: "Environment 'qa' not found" });
      }
      const missing = { id: '', slug: 'no-such-project' };
      for (const res of [await ctx.api.get(path(missing), as), await ctx.api.put(path(missing), { key: 'K', value: 'v' }, as)]) {
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({ code: 'not_found', message: "Project 'no-such-project' not found" });
      }
      expect(await countSecrets(p)).toEqual({ secrets: 0, versions: 0 });
    });
  });

  describe('bulk import', () => {
    it('imports many secrets at once and counts created, updated and total', async () => {
      const p = await project();
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'EXISTING', value: 'old', description: 'kept' });
      const res = await ctx.api.post(
        `${path(p)}/bulk`,
        {
          secrets: [
            { key: 'EXISTING', value: 'new' },
            { key: 'NEW_ONE', value: '1', description: 'fresh' },
            { key: 'NEW_TWO', value: '2' },
          ],
        },
        as,
      );
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ created: 2, updated: 1, unchanged: 0, total: 3, environmentVersion: expect.any(Number) });
      expect(await pull(p)).toEqual([
        expect.objectContaining({ key: 'EXISTING', value: 'new', description: 'kept', version: 2 }),
        expect.objectContaining({ key: 'NEW_ONE', value: '1', description: 'fresh', version: 1 }),
        expect.objectContaining({ key: 'NEW_TWO', value: '2', description: null, version: 1 }),
      ]);
      expect((await history(p, 'EXISTING')).versions.map((v) => v.source)).toEqual(['import', 'set']);
    });

    it('refuses the whole import with 400 when one item is invalid, and writes nothing', async () => {
      const p = await project();
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'EXISTING', value: 'old' });
      const invalidItems = [{ key: '9_STARTS_WITH_DIGIT', value: 'x' }, { key: 'TOO_BIG', value: 'x'.repeat(64 * 1024 + 1) }, { key: 'NO_VALUE' }];
      for (const invalid of invalidItems) {
        const res = await ctx.api.post(`${path(p)}/bulk`, { secrets: [{ key: 'EXISTING', value: 'new' }, { key: 'FRESH', value: 'f' }, invalid] }, as);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('validation_failed');
        expect(res.body.errors[0].field).toMatch(/^secrets\.2\./);
      }
      expect(await countSecrets(p)).toEqual({ secrets: 1, versions: 1 });
      expect(await stored(p, 'EXISTING')).toMatchObject({ current_version: 1, versions: [1] });
      expect(await pull(p)).toEqual([expect.objectContaining({ key: 'EXISTING', value: 'old', version: 1 })]);
    });

    it('rolls back every key of an import when the database fails half-way through it', async () => {
      const p = await project();
      await seedSecrets(ctx.api, as, team.org, p, 'development', { A_EXISTING: 'old-a', Z_EXISTING: 'old-z' });
      // secret_versions is written after secrets: make it fail for one key, after the secrets rows changed.
      await ctx.db.query(`
        CREATE FUNCTION poison_secret_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF (SELECT key FROM secrets WHERE id = NEW.secret_id) = 'POISON' THEN RAISE EXCEPTION 'poisoned'; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER poison BEFORE INSERT ON secret_versions FOR EACH ROW EXECUTE FUNCTION poison_secret_version();`);
      try {
        const res = await ctx.api.post(
          `${path(p)}/bulk`,
          {
            secrets: [
              { key: 'A_EXISTING', value: 'new-a' },
              { key: 'NEW_KEY', value: 'n' },
              { key: 'POISON', value: 'p' },
              { key: 'Z_EXISTING', value: 'new-z' },
            ],
          },
          as,
        );
        expect(res.status).toBe(500);
        expect(res.body).toMatchObject({ code: 'internal_error', message: 'Internal server error' });
        expect(res.text).not.toMatch(/poison|new-a|new-z/i);
      } finally {
        await ctx.db.query('DROP TRIGGER poison ON secret_versions; DROP FUNCTION poison_secret_version()');
      }
      expect(await countSecrets(p)).toEqual({ secrets: 2, versions: 2 });
      expect(await stored(p, 'A_EXISTING')).toMatchObject({ current_version: 1, versions: [1] });
      expect(await stored(p, 'Z_EXISTING')).toMatchObject({ current_version: 1, versions: [1] });
      expect((await pull(p)).map((s) => [s.key, s.value, s.version])).toEqual([
        ['A_EXISTING', 'old-a', 1],
        ['Z_EXISTING', 'old-z', 1],
      ]);
    });

    it('refuses an import that names a key twice with 400, naming the key, and writes nothing', async () => {
      const p = await project();
      const res = await ctx.api.post(
        `${path(p)}/bulk`,
        {
          secrets: [
            { key: 'TWICE', value: '1' },
            { key: 'ONCE', value: 'o' },
            { key: 'TWICE', value: '2' },
          ],
        },
        as,
      );
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'secrets', message: expect.stringContaining('TWICE') }] });
      expect(res.body.errors[0].message).not.toContain('ONCE');
      expect(await countSecrets(p)).toEqual({ secrets: 0, versions: 0 });
    });

    it('refuses an empty import', async () => {
      const p = await project();
      const res = await ctx.api.post(`${path(p)}/bulk`, { secrets: [] }, as);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
    });
  });

  describe('version history', () => {
    it('lists every version newest first, with its value, description, source, who wrote it and when', async () => {
      const p = await project();
      const dev = { session: team.developer.session };
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'HIST', value: 'one', description: 'first' });
      await seedSecrets(ctx.api, dev, team.org, p, 'development', { HIST: 'two' });
      expect((await ctx.api.post(`${path(p)}/rollback`, { key: 'HIST', version: 1 }, dev)).status).toBe(200);

      const res = await ctx.api.get(`${path(p)}/versions/HIST`, as);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const ownerRef = { id: owner.id, email: owner.email };
      const devRef = { id: team.developer.id, email: team.developer.email };
      expect(res.body).toEqual({
        key: 'HIST',
        deleted: false,
        versions: [
          { version: 3, value: 'one', description: 'first', source: 'rollback', createdBy: devRef, createdAt: expect.any(String) },
          { version: 2, value: 'two', description: 'first', source: 'import', createdBy: devRef, createdAt: expect.any(String) },
          { version: 1, value: 'one', description: 'first', source: 'set', createdBy: ownerRef, createdAt: expect.any(String) },
        ],
      });
      const times = res.body.versions.map((v: { createdAt: string }) => Date.parse(v.createdAt));
      expect(times.every((t: number) => !Number.isNaN(t))).toBe(true);
      expect([...times].sort((a, b) => b - a)).toEqual(times);
    });

    it('answers 404 for the history of a key that was never set', async () => {
      const p = await project();
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'ELSEWHERE', value: 'x' });
      const res = await ctx.api.get(`${path(p)}/versions/NEVER_SET`, as);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: 'not_found', message: "Secret 'NEVER_SET' not found" });
      // Same key name in another environment does not count.
      expect((await ctx.api.get(`${path(p, 'staging')}/versions/ELSEWHERE`, as)).status).toBe(404);
    });
  });

  describe('rollback', () => {
    it('writes an earlier version’s value and description as a new version, leaving history untouched', async () => {
      const p = await project();
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'RB', value: 'one', description: 'first' });
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'RB', value: 'two', description: 'second' });

      const res = await ctx.api.post(`${path(p)}/rollback`, { key: 'RB', version: 1 }, as);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ key: 'RB', version: 3, restoredFrom: 1 });
      expect(await pull(p)).toEqual([expect.objectContaining({ key: 'RB', value: 'one', description: 'first', version: 3 })]);
      expect((await history(p, 'RB')).versions.map((v) => [v.version, v.value, v.description, v.source])).toEqual([
        [3, 'one', 'first', 'rollback'],
        [2, 'two', 'second', 'set'],
        [1, 'one', 'first', 'set'],
      ]);

      // The next write continues from the rolled-back version.
      expect(await setSecret(ctx.api, as, team.org, p, 'development', { key: 'RB', value: 'four' })).toBe(4);
      expect((await pull(p))[0]).toMatchObject({ value: 'four', description: 'first', version: 4 });
    });

    it('restores the absence of a description too: rolling back to a version without one clears it', async () => {
      const p = await project();
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'RB', value: 'one' });
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'RB', value: 'two', description: 'added later' });
      expect((await ctx.api.post(`${path(p)}/rollback`, { key: 'RB', version: 1 }, as)).body).toEqual({ key: 'RB', version: 3, restoredFrom: 1 });
      expect((await pull(p))[0]).toMatchObject({ value: 'one', description: null, version: 3 });
      expect((await ctx.api.post(`${path(p)}/rollback`, { key: 'RB', version: 2 }, as)).body.version).toBe(4);
      expect((await pull(p))[0]).toMatchObject({ value: 'two', description: 'added later', version: 4 });
      expect((await history(p, 'RB')).versions.map((v) => [v.version, v.description])).toEqual([
        [4, 'added later'],
        [3, null],
        [2, 'added later'],
        [1, null],
      ]);
    });

    it('answers 404 for a version the key never had and for a key that was never set, writing nothing', async () => {
      const p = await project();
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'RB', value: 'one' });
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'RB', value: 'two' });

      const noVersion = await ctx.api.post(`${path(p)}/rollback`, { key: 'RB', version: 3 }, as);
      expect(noVersion.status).toBe(404);
      expect(noVersion.body).toMatchObject({ code: 'not_found', message: "Secret 'RB' has no version 3" });
      const noKey = await ctx.api.post(`${path(p)}/rollback`, { key: 'NOPE', version: 1 }, as);
      expect(noKey.status).toBe(404);
      expect(noKey.body).toMatchObject({ code: 'not_found', message: "Secret 'NOPE' not found" });
      for (const version of [0, -1, 1.5, '1']) {
        const res = await ctx.api.post(`${path(p)}/rollback`, { key: 'RB', version }, as);
        expect(res.status).toBe(400);
        expect(new Set(res.body.errors.map((e: { field: string }) => e.field))).toEqual(new Set(['version']));
      }
      expect(await stored(p, 'RB')).toMatchObject({ current_version: 2, versions: [1, 2] });
    });
  });

  describe('soft delete', () => {
    it('removes the key from pulls and key listings but keeps its history', async () => {
      const p = await project();
      await seedSecrets(ctx.api, as, team.org, p, 'development', { GONE: 'g1', STAYS: 's' });
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'GONE', value: 'g2' });

      const res = await ctx.api.delete(`${path(p)}/GONE`, as);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ deleted: true, key: 'GONE' });
      expect((await pull(p)).map((s) => s.key)).toEqual(['STAYS']);
      expect((await ctx.api.get(`${path(p)}/keys`, as)).body.keys.map((k: { key: string }) => k.key)).toEqual(['STAYS']);

      const kept = await history(p, 'GONE');
      expect(kept.deleted).toBe(true);
      expect(kept.versions.map((v) => [v.version, v.value])).toEqual([
        [2, 'g2'],
        [1, 'g1'],
      ]);
      const row = await stored(p, 'GONE');
      expect(row?.deleted_at).toBeInstanceOf(Date);
      expect(row?.versions).toEqual([1, 2]);
    });

    it('answers 404 to deleting a key a second time, or a key that never existed', async () => {
      const p = await project();
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'ONCE', value: 'x' });
      expect((await ctx.api.delete(`${path(p)}/ONCE`, as)).status).toBe(200);
      const again = await ctx.api.delete(`${path(p)}/ONCE`, as);
      expect(again.status).toBe(404);
      expect(again.body).toMatchObject({ code: 'not_found', message: "Secret 'ONCE' not found" });
      expect((await ctx.api.delete(`${path(p)}/NEVER`, as)).status).toBe(404);
      // Deleting in one environment leaves the same key in another alone.
      expect((await ctx.api.delete(`${path(p, 'staging')}/ONCE`, as)).status).toBe(404);
    });

    it('revives a deleted key when it is set again, as created with the next version number', async () => {
      const p = await project();
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'PHOENIX', value: 'v1', description: 'bird' });
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'PHOENIX', value: 'v2' });
      expect((await ctx.api.delete(`${path(p)}/PHOENIX`, as)).status).toBe(200);

      const revived = await ctx.api.put(path(p), { key: 'PHOENIX', value: 'v3' }, as);
      expect(revived.status).toBe(200);
      expect(revived.body).toEqual({ key: 'PHOENIX', version: 3, created: true, unchanged: false });
      expect(await pull(p)).toEqual([expect.objectContaining({ key: 'PHOENIX', value: 'v3', version: 3 })]);
      const h = await history(p, 'PHOENIX');
      expect(h.deleted).toBe(false);
      expect(h.versions.map((v) => v.version)).toEqual([3, 2, 1]);

      // A bulk import counts a revived key as created too.
      expect((await ctx.api.delete(`${path(p)}/PHOENIX`, as)).status).toBe(200);
      const bulk = await ctx.api.post(`${path(p)}/bulk`, { secrets: [{ key: 'PHOENIX', value: 'v4' }] }, as);
      expect(bulk.body).toEqual({ created: 1, updated: 0, unchanged: 0, total: 1, environmentVersion: expect.any(Number) });
      expect(await stored(p, 'PHOENIX')).toMatchObject({ current_version: 4, deleted_at: null, versions: [1, 2, 3, 4] });
    });
  });

  describe('bulk delete', () => {
    it('deletes many keys at once for an owner or an admin, and is refused to a developer', async () => {
      const p = await project();
      await seedSecrets(ctx.api, as, team.org, p, 'development', { A: '1', B: '2', C: '3', D: '4' });

      const byDeveloper = await ctx.api.post(`${path(p)}/bulk-delete`, { keys: ['A'] }, { session: team.developer.session });
      expect(byDeveloper.status).toBe(403);

      const byAdmin = await ctx.api.post(`${path(p)}/bulk-delete`, { keys: ['A', 'C'] }, { session: team.admin.session });
      expect(byAdmin.status).toBe(200);
      expect(byAdmin.body.deleted).toBe(2);
      expect([...byAdmin.body.keys].sort()).toEqual(['A', 'C']);

      const byOwner = await ctx.api.post(`${path(p)}/bulk-delete`, { keys: ['D'] }, as);
      expect(byOwner.status).toBe(200);
      expect(byOwner.body).toEqual({ deleted: 1, keys: ['D'] });

      expect((await pull(p)).map((s) => s.key)).toEqual(['B']);
      expect((await history(p, 'A')).deleted).toBe(true);
    });

    it('deletes nothing when one key is missing, answering 404 naming that key', async () => {
      const p = await project();
      await seedSecrets(ctx.api, as, team.org, p, 'development', { A: '1', B: '2', ALREADY_GONE: '3' });
      expect((await ctx.api.delete(`${path(p)}/ALREADY_GONE`, as)).status).toBe(200);

      const res = await ctx.api.post(`${path(p)}/bulk-delete`, { keys: ['A', 'MISSING', 'B', 'ALREADY_GONE'] }, as);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('not_found');
      expect(res.body.message).toContain('MISSING');
      expect(res.body.message).toContain('ALREADY_GONE');
      expect(res.body.message).not.toMatch(/\bA\b|\bB\b/);

      expect((await pull(p)).map((s) => s.key)).toEqual(['A', 'B']);
      expect((await stored(p, 'A'))?.deleted_at).toBeNull();
      expect((await stored(p, 'B'))?.deleted_at).toBeNull();
    });

    it('refuses an empty list, a key named twice and an invalid key name with 400', async () => {
      const p = await project();
      await seedSecrets(ctx.api, as, team.org, p, 'development', { A: '1' });
      for (const keys of [[], ['A', 'A'], ['A', 'not-a-key']]) {
        const res = await ctx.api.post(`${path(p)}/bulk-delete`, { keys }, as);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('validation_failed');
      }
      expect((await pull(p)).map((s) => s.key)).toEqual(['A']);
    });
  });

  describe('pagination and search', () => {
    let p: TestProject;
    // Byte order (what "sorted by key" means): uppercase < '_' < lowercase.
    const KEYS = ['API_KEY', 'APP_NAME', 'DBXHOST', 'DB_HOST', 'DB_PASS', 'DB_PORT', 'ZETA', '_INTERNAL', 'db_lower'];

    beforeAll(async () => {
      p = await project();
      // Imported out of order on purpose.
      const shuffled = [...KEYS].reverse();
      await seedSecrets(ctx.api, as, team.org, p, 'development', Object.fromEntries(shuffled.map((k) => [k, `value of ${k}`])));
    });

    const listing = async (route: 'pull' | 'keys', query: string) => {
      const res = await ctx.api.get(`${path(p)}${route === 'keys' ? '/keys' : ''}?${query}`, as);
      expect(res.status).toBe(200);
      const items: Array<{ key: string; value?: string }> = route === 'keys' ? res.body.keys : res.body.secrets;
      return { keys: items.map((i) => i.key), items, pagination: res.body.pagination, body: res.body, res };
    };

    it('returns everything, sorted by key and without a pagination object, when limit is omitted', async () => {
      for (const route of ['pull', 'keys'] as const) {
        const page = await listing(route, '');
        expect(page.keys).toEqual(KEYS);
        expect(page.body).not.toHaveProperty('pagination');
      }
      expect((await listing('pull', 'offset=0')).body).not.toHaveProperty('pagination');
    });

    it('pages with limit and offset, reporting the total of all pages', async () => {
      for (const route of ['pull', 'keys'] as const) {
        const pages = [await listing(route, 'limit=4'), await listing(route, 'limit=4&offset=4'), await listing(route, 'limit=4&offset=8')];
        expect(pages.map((pg) => pg.pagination)).toEqual([
          { limit: 4, offset: 0, total: 9 },
          { limit: 4, offset: 4, total: 9 },
          { limit: 4, offset: 8, total: 9 },
        ]);
        expect(pages.map((pg) => pg.keys)).toEqual([KEYS.slice(0, 4), KEYS.slice(4, 8), KEYS.slice(8)]);
        expect((await listing(route, 'limit=9')).pagination).toEqual({ limit: 9, offset: 0, total: 9 });
        expect((await listing(route, 'limit=500')).pagination).toEqual({ limit: 500, offset: 0, total: 9 });
        expect((await listing(route, 'limit=1&offset=3')).keys).toEqual([KEYS[3]]);
      }
      const withValues = await listing('pull', 'limit=2&offset=1');
      expect(withValues.res.headers.get('cache-control')).toBe('no-store');
      expect(withValues.items).toEqual([
        expect.objectContaining({ key: 'APP_NAME', value: 'value of APP_NAME' }),
        expect.objectContaining({ key: 'DBXHOST', value: 'value of DBXHOST' }),
      ]);
    });

    it('answers an offset past the end with an empty list and the correct total', async () => {
      for (const route of ['pull', 'keys'] as const) {
        for (const offset of [9, 50]) {
          const page = await listing(route, `limit=5&offset=${offset}`);
          expect(page.keys).toEqual([]);
          expect(page.pagination).toEqual({ limit: 5, offset, total: 9 });
        }
      }
    });

    it('refuses a limit outside 1–500, a negative offset and non-numbers with 400', async () => {
      const bad = ['limit=0', 'limit=501', 'limit=-1', 'limit=abc', 'limit=2.5', 'limit=', 'offset=-1', 'offset=abc', 'limit=5&offset=-3'];
      for (const route of ['', '/keys']) {
        for (const query of bad) {
          const res = await ctx.api.get(`${path(p)}${route}?${query}`, as);
          expect({ query, route, status: res.status, code: res.body?.code }).toEqual({ query, route, status: 400, code: 'validation_failed' });
          const field = query.includes('offset=') ? 'offset' : 'limit';
          expect(new Set(res.body.errors.map((e: { field: string }) => e.field))).toEqual(new Set([field]));
        }
      }
    });

    it('searches by case-sensitive key prefix, where % and _ are plain characters', async () => {
      const search = async (prefix: string, route: 'pull' | 'keys' = 'pull') => (await listing(route, `search=${encodeURIComponent(prefix)}`)).keys;
      expect(await search('DB_')).toEqual(['DB_HOST', 'DB_PASS', 'DB_PORT']); // not DBXHOST: _ is no wildcard
      expect(await search('DB')).toEqual(['DBXHOST', 'DB_HOST', 'DB_PASS', 'DB_PORT']);
      expect(await search('db')).toEqual(['db_lower']);
      expect(await search('Db')).toEqual([]);
      expect(await search('_')).toEqual(['_INTERNAL']);
      expect(await search('AP')).toEqual(['API_KEY', 'APP_NAME']);
      expect(await search('API_KEY')).toEqual(['API_KEY']);
      expect(await search('API_KEY_')).toEqual([]);
      expect(await search('HOST')).toEqual([]); // a prefix, not a substring
      for (const wildcard of ['%', 'D%', '%HOST', 'DB%', 'A_I', '_B', '.*', '\\']) expect(await search(wildcard)).toEqual([]);
      expect(await search('DB_', 'keys')).toEqual(['DB_HOST', 'DB_PASS', 'DB_PORT']);
      expect(await search('%', 'keys')).toEqual([]);
    });

    it('combines search with pagination, counting only the matching keys', async () => {
      for (const route of ['pull', 'keys'] as const) {
        const first = await listing(route, 'search=DB_&limit=2');
        expect(first.keys).toEqual(['DB_HOST', 'DB_PASS']);
        expect(first.pagination).toEqual({ limit: 2, offset: 0, total: 3 });
        const second = await listing(route, 'search=DB_&limit=2&offset=2');
        expect(second.keys).toEqual(['DB_PORT']);
        expect(second.pagination).toEqual({ limit: 2, offset: 2, total: 3 });
        const past = await listing(route, 'search=DB_&limit=2&offset=3');
        expect(past.keys).toEqual([]);
        expect(past.pagination).toEqual({ limit: 2, offset: 3, total: 3 });
        expect((await listing(route, 'search=%25&limit=2')).pagination).toEqual({ limit: 2, offset: 0, total: 0 });
      }
    });

    it('reads exactly the keys named by ?keys= (not their prefixes), and refuses a bad list with 400', async () => {
      for (const route of ['pull', 'keys'] as const) {
        expect((await listing(route, 'keys=DB_HOST,ZETA,NOT_SET')).keys).toEqual(['DB_HOST', 'ZETA']);
        expect((await listing(route, 'keys=DB&limit=5')).pagination).toEqual({ limit: 5, offset: 0, total: 0 });
      }
      const tooMany = Array.from({ length: 101 }, (_, i) => `K${i}`).join(',');
      for (const query of ['keys=', 'keys=A,,B', 'keys=1BAD', `keys=${'A'.repeat(257)}`, `keys=${tooMany}`]) {
        const res = await ctx.api.get(`${path(p)}?${query}`, as);
        expect({ query: query.slice(0, 20), status: res.status, code: res.body?.code }).toEqual({
          query: query.slice(0, 20),
          status: 400,
          code: 'validation_failed',
        });
      }
    });

    it('leaves deleted keys out of pages and totals', async () => {
      const q = await project();
      await seedSecrets(ctx.api, as, team.org, q, 'development', { K1: '1', K2: '2', K3: '3', K4: '4' });
      expect((await ctx.api.delete(`${path(q)}/K2`, as)).status).toBe(200);
      const res = await ctx.api.get(`${path(q)}?limit=2`, as);
      expect(res.body.secrets.map((s: { key: string }) => s.key)).toEqual(['K1', 'K3']);
      expect(res.body.pagination).toEqual({ limit: 2, offset: 0, total: 3 });
      const keys = await ctx.api.get(`${path(q)}/keys?search=K&limit=10`, as);
      expect(keys.body.keys.map((s: { key: string }) => s.key)).toEqual(['K1', 'K3', 'K4']);
      expect(keys.body.pagination).toEqual({ limit: 10, offset: 0, total: 3 });
    });
  });

  describe('token scopes', () => {
    it('gives a token restricted to one project 403 on another project of the same org', async () => {
      const mine = await project();
      const other = await project();
      await seedSecrets(ctx.api, as, team.org, other, 'development', { OTHER: 'not yours' });
      const { token } = await createVaultToken(ctx.api, owner, { access: 'read_write', orgId: team.org.id, projectId: mine.id });

      expect((await ctx.api.put(path(mine), { key: 'MINE', value: 'ok' }, { token })).status).toBe(200);
      expect(await pull(mine, 'development', { token })).toEqual([expect.objectContaining({ key: 'MINE', value: 'ok' })]);

      const refused = [
        await ctx.api.get(path(other), { token }),
        await ctx.api.get(`${path(other)}/keys`, { token }),
        await ctx.api.get(`${path(other)}/versions/OTHER`, { token }),
        await ctx.api.put(path(other), { key: 'OTHER', value: 'overwritten' }, { token }),
        await ctx.api.delete(`${path(other)}/OTHER`, { token }),
      ];
      for (const res of refused) {
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ code: 'forbidden', message: 'This token is not scoped to this project' });
        expect(res.text).not.toContain('not yours');
      }
      expect(await stored(other, 'OTHER')).toMatchObject({ current_version: 1, deleted_at: null });
    });

    it('gives a token restricted to development 200 there (also as dev) and 403 on staging and production', async () => {
      const p = await project();
      await seedSecrets(ctx.api, as, team.org, p, 'production', { PROD_ONLY: 'prod value' });
      const { token, environments } = await createVaultToken(ctx.api, owner, { access: 'read_write', orgId: team.org.id, environments: ['development'] });
      expect(environments).toEqual(['development']);

      for (const env of ['development', 'dev']) {
        expect((await ctx.api.put(path(p, env), { key: 'DEV_KEY', value: env }, { token })).status).toBe(200);
        expect((await ctx.api.get(path(p, env), { token })).status).toBe(200);
      }
      for (const env of ['production', 'prod', 'staging', 'stg']) {
        for (const res of [
          await ctx.api.get(path(p, env), { token }),
          await ctx.api.get(`${path(p, env)}/keys`, { token }),
          await ctx.api.put(path(p, env), { key: 'PROD_ONLY', value: 'changed' }, { token }),
        ]) {
          expect(res.status).toBe(403);
          expect(res.body).toMatchObject({ code: 'forbidden', message: 'This token is not scoped to this environment' });
          expect(res.text).not.toContain('prod value');
        }
      }
      expect(await stored(p, 'PROD_ONLY', 'production')).toMatchObject({ current_version: 1 });
    });

    it('stores the alias dev given at token creation as development, and scopes the token to it', async () => {
      const p = await project();
      const { token, environments } = await createVaultToken(ctx.api, owner, {
        access: 'read_write',
        orgId: team.org.id,
        projectId: p.id,
        environments: ['dev'],
      });
      expect(environments).toEqual(['development']);
      expect((await ctx.api.put(path(p, 'development'), { key: 'K', value: 'v' }, { token })).status).toBe(200);
      expect((await ctx.api.get(path(p, 'dev'), { token })).status).toBe(200);
      expect((await ctx.api.get(path(p, 'prod'), { token })).status).toBe(403);
      expect((await ctx.api.get(path(p, 'production'), { token })).status).toBe(403);
    });

    it('lets a read token pull, list and read history, and refuses it every write with 403', async () => {
      const p = await project();
      await seedSecrets(ctx.api, as, team.org, p, 'development', { R: 'readable' });
      const { token } = await createToken(ctx.api, owner, { access: 'read', orgId: team.org.id });
      expect(await pull(p, 'development', { token })).toEqual([expect.objectContaining({ key: 'R', value: 'readable' })]);
      expect((await ctx.api.get(`${path(p)}/keys`, { token })).status).toBe(200);
      expect((await ctx.api.get(`${path(p)}/versions/R`, { token })).status).toBe(200);

      const writes = [
        await ctx.api.put(path(p), { key: 'R', value: 'changed' }, { token }),
        await ctx.api.post(`${path(p)}/bulk`, { secrets: [{ key: 'R', value: 'changed' }] }, { token }),
        await ctx.api.post(`${path(p)}/rollback`, { key: 'R', version: 1 }, { token }),
        await ctx.api.delete(`${path(p)}/R`, { token }),
        await ctx.api.post(`${path(p)}/bulk-delete`, { keys: ['R'] }, { token }),
      ];
      for (const res of writes) {
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ code: 'forbidden', message: 'This token is read-only' });
      }
      expect(await stored(p, 'R')).toMatchObject({ current_version: 1, deleted_at: null, versions: [1] });
    });

    it('refuses to create a token with projectId but no orgId, a project of another org, or an unknown environment (400)', async () => {
      const p = await project();
      const elsewhere = await createOrg(ctx.api, owner, 'Elsewhere');
      const foreign = await createProject(ctx.api, owner, elsewhere);
      const attempts = [
        [{ projectId: p.id }, 'projectId'],
        [{ orgId: team.org.id, projectId: foreign.id }, 'projectId'],
        [{ orgId: elsewhere.id, projectId: p.id }, 'projectId'],
        [{ orgId: team.org.id, projectId: p.id, environments: ['qa'] }, 'environments'],
        [{ orgId: team.org.id, projectId: p.id, environments: ['development', 'nope'] }, 'environments'],
      ] as const;
      for (const [scope, field] of attempts) {
        const res = await ctx.api.post('/v1/auth/token', { name: 'bad scope', access: 'read', ...scope }, { session: owner.session });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ field })] });
      }
      const { rows } = await ctx.db.query(`SELECT count(*)::int AS n FROM api_tokens WHERE name = 'bad scope'`);
      expect(rows[0].n).toBe(0);
    });
  });
});
