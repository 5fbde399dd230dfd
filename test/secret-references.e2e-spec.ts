import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createOrg, createTeam, registerUser, type OrgWithTeam } from './factories/accounts.js';
import { createProject, createVaultToken, secretsPath, seedSecrets, setSecret, type TestProject } from './factories/vault.js';
import type { Credentials, RequestOptions } from './support/http.js';
import { startTestContext, type TestContext } from './support/test-app.js';

/** Issue 19, point 3: references between values (`${KEY}`, `${env.KEY}`), resolved on the server at pull time. */
describe('secret references', () => {
  let ctx: TestContext;
  let team: OrgWithTeam;
  let as: Credentials;

  beforeAll(async () => {
    ctx = await startTestContext();
    team = await createTeam(ctx.api);
    as = { session: team.owner.session };
  });
  afterAll(() => ctx.close());

  const path = (p: TestProject, env: string) => secretsPath(team.org, p, env);
  const pull = async (p: TestProject, env: string, query = '', who: RequestOptions = as) => ctx.api.get(`${path(p, env)}${query}`, who);
  const valuesOf = (body: { secrets: Array<{ key: string; value: string }> }) => Object.fromEntries(body.secrets.map((s) => [s.key, s.value]));

  async function auditRows(p: TestProject, action: string) {
    const { rows } = await ctx.db.query(`SELECT metadata FROM audit_events WHERE metadata->>'projectId' = $1::text AND action = $2 ORDER BY id`, [
      p.id,
      action,
    ]);
    return rows.map((r) => r.metadata as Record<string, unknown>);
  }

  /** Every current value of the project, as stored (ciphertext), to show that a refused write changed nothing. */
  async function storedState(p: TestProject) {
    const { rows } = await ctx.db.query(
      `SELECT e.slug, s.key, s.current_version, s.deleted_at IS NULL AS live FROM secrets s JOIN environments e ON e.id = s.environment_id
        WHERE e.project_id = $1 ORDER BY e.slug, s.key`,
      [p.id],
    );
    return rows;
  }

  /**
   * A writer's bulk write, promotion (dry run and real), rollback and restore that would store a reference
   * to `env`.DB_PASSWORD in staging are each refused (403, naming the key): the references are stored
   * first by the owner (`as`). Returns the project's stored state, which the refusals left as it was.
   */
  async function expectCopiesRefused(p: TestProject, env: string, writer: RequestOptions) {
    const ref = `\${${env}.DB_PASSWORD}`;
    const bulk = await ctx.api.post(
      `${path(p, 'staging')}/bulk`,
      {
        secrets: [
          { key: 'OK', value: 'fine' },
          { key: 'URL', value: `db://${ref}` },
        ],
      },
      writer,
    );
    expect(bulk.status).toBe(403);
    expect(bulk.body.reference).toBe(`URL -> ${ref}`);
    await seedSecrets(ctx.api, as, team.org, p, 'development', { REF: ref });
    const promotePath = `/v1/secrets/${team.org.slug}/${p.slug}/promote`;
    for (const dryRun of [true, false]) {
      const promote = await ctx.api.post(promotePath, { fromEnv: 'development', toEnv: 'staging', keys: ['REF'], dryRun }, writer);
      expect(promote.status).toBe(403);
      expect(promote.body.reference).toBe(`REF -> ${ref}`);
    }
    await setSecret(ctx.api, as, team.org, p, 'staging', { key: 'R', value: ref });
    const { rows } = await ctx.db.query(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at`);
    await setSecret(ctx.api, as, team.org, p, 'staging', { key: 'R', value: 'plain' });
    const stagingBefore = await storedState(p);
    expect((await ctx.api.post(`${path(p, 'staging')}/rollback`, { key: 'R', version: 1 }, writer)).status).toBe(403);
    expect((await ctx.api.post(`${path(p, 'staging')}/restore`, { to: rows[0].at, keys: ['R'] }, writer)).status).toBe(403);
    expect(await storedState(p)).toEqual(stagingBefore);
    return stagingBefore;
  }

  it.concurrent('resolves same-environment and cross-environment references, by slug and by alias', async () => {
    const p = await createProject(ctx.api, team.owner, team.org);
    await seedSecrets(ctx.api, as, team.org, p, 'staging', { DB_HOST: 'db.staging', DB_PASSWORD: 'hunter2' });
    await seedSecrets(ctx.api, as, team.org, p, 'development', {
      USER: 'app',
      DB_URL: 'postgres://${USER}:${staging.DB_PASSWORD}@${stg.DB_HOST}/app',
      CHAINED: '[${DB_URL}]',
    });
    const res = await pull(p, 'development');
    expect(res.status).toBe(200);
    expect(valuesOf(res.body)).toEqual({ USER: 'app', DB_URL: 'postgres://app:hunter2@db.staging/app', CHAINED: '[postgres://app:hunter2@db.staging/app]' });
  });

  it.concurrent('returns the stored text with raw=true, and compares stored text in a diff', async () => {
    const p = await createProject(ctx.api, team.owner, team.org);
    await seedSecrets(ctx.api, as, team.org, p, 'development', { A: 'a', B: '${A}-b' });
    await seedSecrets(ctx.api, as, team.org, p, 'staging', { A: 'other', B: '${A}-b' });
    const raw = await pull(p, 'development', '?raw=true');
    expect(raw.status).toBe(200);
    expect(valuesOf(raw.body)).toEqual({ A: 'a', B: '${A}-b' });
    expect(raw.headers.get('etag')).not.toBe((await pull(p, 'development')).headers.get('etag'));
    const diff = await ctx.api.get(`/v1/secrets/${team.org.slug}/${p.slug}/diff?from=development&to=staging&keys=B`, as);
    expect(diff.body.keys).toEqual([expect.objectContaining({ key: 'B', status: 'identical' })]);
  });

  it.concurrent('turns $${…} into a literal ${…} and leaves text that is not a reference alone', async () => {
    const p = await createProject(ctx.api, team.owner, team.org);
    await seedSecrets(ctx.api, as, team.org, p, 'development', { A: 'a', ESCAPED: 'cost $${A} and ${A}', PLAIN: 'x ${ not a ref} $ { $A ${1X}' });
    const res = await pull(p, 'development');
    expect(valuesOf(res.body)).toMatchObject({ ESCAPED: 'cost ${A} and a', PLAIN: 'x ${ not a ref} $ { $A ${1X}' });
  });

  it.concurrent('reads an optional reference to a missing key as empty or as its default text', async () => {
    const p = await createProject(ctx.api, team.owner, team.org);
    await seedSecrets(ctx.api, as, team.org, p, 'development', {
      SET: 'here',
      EMPTY: '<${MISSING:-}>',
      DEFAULTED: '<${MISSING:-fallback text}>',
      OTHER_ENV: '<${production.NOPE:-none}>',
      PRESENT: '<${SET:-unused}>',
    });
    const res = await pull(p, 'development');
    expect(valuesOf(res.body)).toMatchObject({ EMPTY: '<>', DEFAULTED: '<fallback text>', OTHER_ENV: '<none>', PRESENT: '<here>' });
  });

  it.concurrent('fails a pull that reaches a missing key or environment, naming the reference and no value', async () => {
    const p = await createProject(ctx.api, team.owner, team.org);
    await seedSecrets(ctx.api, as, team.org, p, 'development', { DB_URL: 'secret-prefix ${production.DB_PASSWORD}' });
    const res = await pull(p, 'development');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'conflict', reference: 'DB_URL -> ${production.DB_PASSWORD}' });
    expect(res.body.message).toContain('DB_URL -> ${production.DB_PASSWORD}');
    expect(res.text).not.toContain('secret-prefix');
    await seedSecrets(ctx.api, as, team.org, p, 'staging', { X: '${qa.KEY}' });
    const noEnv = await pull(p, 'staging');
    expect(noEnv.status).toBe(409);
    expect(noEnv.body.message).toBe("X -> ${qa.KEY}: the project has no environment 'qa'");
    // The stored text is still readable.
    expect((await pull(p, 'development', '?raw=true')).status).toBe(200);
  });

  it.concurrent(
    'refuses a viewer a production-tier value reached through a development reference (403 naming it), and a token scoped to development',
    async () => {
      const p = await createProject(ctx.api, team.owner, team.org);
      await seedSecrets(ctx.api, as, team.org, p, 'production', { DB_PASSWORD: 'prod-password-value' });
      await seedSecrets(ctx.api, as, team.org, p, 'development', { DB_URL: 'postgres://u:${production.DB_PASSWORD}@h', OTHER: 'fine' });
      const viewer = { session: team.viewer.session };
      const res = await pull(p, 'development', '', viewer);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'forbidden', reference: 'DB_URL -> ${production.DB_PASSWORD}' });
      expect(res.body.message).toMatch(/^DB_URL -> \$\{production\.DB_PASSWORD\}: /);
      expect(res.text).not.toContain('prod-password-value');
      // Raw text and the keys that reach nothing are still the viewer's to read.
      expect(valuesOf((await pull(p, 'development', '?raw=true', viewer)).body).DB_URL).toBe('postgres://u:${production.DB_PASSWORD}@h');
      expect(valuesOf((await pull(p, 'development', '?keys=OTHER', viewer)).body)).toEqual({ OTHER: 'fine' });

      const scoped = await createVaultToken(ctx.api, team.owner, { access: 'read', orgId: team.org.id, projectId: p.id, environments: ['development'] });
      const byToken = await pull(p, 'development', '', { token: scoped.token });
      expect(byToken.status).toBe(403);
      expect(byToken.body.reference).toBe('DB_URL -> ${production.DB_PASSWORD}');
      // The owner reads it.
      expect(valuesOf((await pull(p, 'development')).body).DB_URL).toBe('postgres://u:prod-password-value@h');
    },
  );

  it.concurrent('audits the referenced keys as reads in the pull’s own audit row', async () => {
    const p = await createProject(ctx.api, team.owner, team.org);
    await seedSecrets(ctx.api, as, team.org, p, 'production', { DB_PASSWORD: 'pw', UNUSED: 'u' });
    await seedSecrets(ctx.api, as, team.org, p, 'development', { HOST: 'h', DB_URL: '${HOST}:${prod.DB_PASSWORD}' });
    expect((await pull(p, 'development', '?keys=DB_URL')).status).toBe(200);
    const reads = await auditRows(p, 'secret.read');
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({
      environment: 'development',
      keys: ['DB_URL'],
      references: [
        { environment: 'development', keys: ['HOST'] },
        { environment: 'production', keys: ['DB_PASSWORD'] },
      ],
    });
    expect(JSON.stringify(reads[0])).not.toContain('pw');
  });

  it.concurrent('changes the ETag when a referenced value in another environment changes (no stale 304)', async () => {
    const p = await createProject(ctx.api, team.owner, team.org);
    await seedSecrets(ctx.api, as, team.org, p, 'staging', { TOKEN: 'one' });
    await seedSecrets(ctx.api, as, team.org, p, 'development', { T: 'v=${staging.TOKEN}', OPT: '${staging.LATER:-}' });
    const first = await pull(p, 'development');
    const etag = first.headers.get('etag')!;
    const same = await pull(p, 'development', '', { ...as, headers: { 'if-none-match': etag } });
    expect(same.status).toBe(304);

    await setSecret(ctx.api, as, team.org, p, 'staging', { key: 'TOKEN', value: 'two' });
    const changed = await pull(p, 'development', '', { ...as, headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(valuesOf(changed.body).T).toBe('v=two');

    // A key that an optional reference waits for appearing changes it too.
    const etag2 = changed.headers.get('etag')!;
    await setSecret(ctx.api, as, team.org, p, 'staging', { key: 'LATER', value: 'now' });
    const appeared = await pull(p, 'development', '', { ...as, headers: { 'if-none-match': etag2 } });
    expect(appeared.status).toBe(200);
    expect(valuesOf(appeared.body).OPT).toBe('now');
  });

  it('two writes racing to close a cycle, in one environment or across two: one of each pair is refused, and no cycle is stored', async () => {
    const p = await createProject(ctx.api, team.owner, team.org);
    // Each pair's halves go to two instances: an instance queues its own writes of references to a
    // project (SecretWriter), so only the database's reference lock orders writes of two instances.
    const other = (await ctx.startInstance()).http;
    for (let r = 0; r < 12; r++) {
      const [a, b, x, y] = await Promise.all([
        // Same environment, different keys (their key locks do not order them).
        ctx.api.put(path(p, 'development'), { key: `A${r}`, value: `\${B${r}}` }, as),
        other.put(path(p, 'development'), { key: `B${r}`, value: `\${A${r}}` }, as),
        // Two environments.
        ctx.api.put(path(p, 'development'), { key: `X${r}`, value: `\${staging.Y${r}}` }, as),
        other.put(path(p, 'staging'), { key: `Y${r}`, value: `\${development.X${r}}` }, as),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 400]);
      expect([x.status, y.status].sort()).toEqual([200, 400]);
      for (const refused of [a, b, x, y].filter((res) => res.status === 400)) expect(refused.body.errors[0].message).toMatch(/the references form a cycle$/);
    }
    // Of each pair only the write that passed is stored: no cycle (its other half is not set).
    const stored = (await storedState(p)).map((row) => `${row.slug}.${row.key}`);
    expect(stored).toHaveLength(12 * 2);
    for (let r = 0; r < 12; r++) {
      expect([`development.A${r}`, `development.B${r}`].filter((k) => stored.includes(k))).toHaveLength(1);
      expect([`development.X${r}`, `staging.Y${r}`].filter((k) => stored.includes(k))).toHaveLength(1);
    }
  });

  it.concurrent('takes a dozen concurrent writes of references to one project, queued in the app rather than on a database lock', async () => {
    // An app on which any wait for a database lock fails at once (503): a write that queued for the
    // project's reference lock inside PostgreSQL, holding a pooled connection meanwhile, would fail there.
    // Its own database: the other tests' writes share a database's locks too (extending a table, the
    // queue of notifications at commit), which a 1 ms lock time-out would turn into 503s of their own.
    const strict = await startTestContext({ DATABASE_LOCK_TIMEOUT_MS: '1' });
    try {
      const owner = await registerUser(strict.api, 'burst');
      const org = await createOrg(strict.api, owner);
      const p = await createProject(strict.api, owner, org);
      const by = { session: owner.session };
      await seedSecrets(strict.api, by, org, p, 'staging', { HOST: 'db.staging' });
      const writes = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          strict.api.put(secretsPath(org, p, 'development'), { key: `URL${i}`, value: `postgres://\${staging.HOST}/\${NAME${i}:-db${i}}` }, by),
        ),
      );
      expect(writes.map((res) => res.status)).toEqual(Array(12).fill(200));
      const pulled = await strict.api.get(secretsPath(org, p, 'development'), by);
      expect(valuesOf(pulled.body)).toEqual(Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`URL${i}`, `postgres://db.staging/db${i}`])));
    } finally {
      await strict.close();
    }
  });

  it.concurrent('refuses a reference cycle at write time (set and bulk import) with a 400 naming the chain, changing nothing', async () => {
    const p = await createProject(ctx.api, team.owner, team.org);
    await seedSecrets(ctx.api, as, team.org, p, 'development', { A: '${B}', B: 'plain' });
    await seedSecrets(ctx.api, as, team.org, p, 'staging', { S: '${development.A}' });
    const before = await storedState(p);
    const self = await ctx.api.put(path(p, 'development'), { key: 'B', value: 'x${A}' }, as);
    expect(self.status).toBe(400);
    expect(self.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'B', message: 'B -> ${A} -> ${B}: the references form a cycle' }] });
    const crossEnv = await ctx.api.put(path(p, 'development'), { key: 'B', value: '${staging.S}' }, as);
    expect(crossEnv.status).toBe(400);
    expect(crossEnv.body.errors[0].message).toBe('B -> ${staging.S} -> ${development.A} -> ${B}: the references form a cycle');
    const bulk = await ctx.api.post(
      `${path(p, 'development')}/bulk`,
      {
        secrets: [
          { key: 'NEW', value: 'n' },
          { key: 'B', value: '${A}' },
        ],
      },
      as,
    );
    expect(bulk.status).toBe(400);
    expect(bulk.body.errors[0].field).toBe('B');
    expect(await storedState(p)).toEqual(before);
    expect(await auditRows(p, 'secret.updated')).toEqual([]);
  });

  it.concurrent('refuses (403, naming the key) a value referencing another environment the writer cannot read, on every write path', async () => {
    const p = await createProject(ctx.api, team.owner, team.org);
    await seedSecrets(ctx.api, as, team.org, p, 'production', { DB_PASSWORD: 'prod-only-password' });
    const developer = { session: team.developer.session };
    const before = await storedState(p);
    // A developer may write staging and production but not read production: a reference would carry the
    // production value into whatever pulls staging with broader rights (a deploy token of the owner's).
    for (const value of ['${production.DB_PASSWORD}', 'x-${prod.DB_PASSWORD:-none}']) {
      const res = await ctx.api.put(path(p, 'staging'), { key: 'LOG_LEVEL', value }, developer);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'forbidden', reference: `LOG_LEVEL -> \${${value.includes('prod.') ? 'prod' : 'production'}.DB_PASSWORD}` });
      expect(res.text).not.toContain('prod-only-password');
    }
    // A token scoped to staging may not reference development either (its scope is what it may read).
    const scoped = await createVaultToken(ctx.api, team.owner, { access: 'read_write', orgId: team.org.id, projectId: p.id, environments: ['staging'] });
    expect((await ctx.api.put(path(p, 'staging'), { key: 'D', value: '${development.X}' }, { token: scoped.token })).status).toBe(403);

    // Copies are checked the same way: bulk, promotion (and its dry run), rollback and restore of a stored reference.
    const stagingBefore = await expectCopiesRefused(p, 'production', developer);
    expect(stagingBefore.filter((r: { slug: string }) => r.slug === 'staging').map((r: { key: string }) => r.key)).toEqual(['R']);
    expect(before.map((r: { key: string }) => r.key)).toEqual(['DB_PASSWORD']);

    // The owner's project-wide deploy token pulling staging gets no production value from the developer.
    const deploy = await createVaultToken(ctx.api, team.owner, { access: 'read', orgId: team.org.id, projectId: p.id });
    const pulled = await pull(p, 'staging', '', { token: deploy.token });
    expect(pulled.text).not.toContain('"LOG_LEVEL"');

    // References within the environment written stay there: allowed, even where the writer cannot read.
    expect((await ctx.api.put(path(p, 'production'), { key: 'DB_URL', value: 'postgres://app:${DB_PASSWORD}@db' }, developer)).status).toBe(200);
    expect((await ctx.api.put(path(p, 'production'), { key: 'DB_URL2', value: '${prod.DB_PASSWORD}' }, developer)).status).toBe(200);
    // And those who may read production may reference it: owner and admin.
    for (const who of [as, { session: team.admin.session }]) {
      expect((await ctx.api.put(path(p, 'staging'), { key: 'LOG_LEVEL', value: '${production.DB_PASSWORD}' }, who)).status).toBe(200);
    }
  });

  it.concurrent(
    'refuses (403, naming the key and the environment) a reference to an environment that does not exist yet to a writer who could not read it once created, on every write path',
    async () => {
      const p = await createProject(ctx.api, team.owner, team.org);
      const developer = { session: team.developer.session };
      const before = await storedState(p);
      // prod-eu does not exist: an admin may create it later as a production-tier environment, and staging
      // pulls would then carry its values through the developer's reference.
      for (const value of ['${prod-eu.DB_PASSWORD}', 'x-${prod-eu.DB_PASSWORD:-none}']) {
        const res = await ctx.api.put(path(p, 'staging'), { key: 'LOG_LEVEL', value }, developer);
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ code: 'forbidden', reference: 'LOG_LEVEL -> ${prod-eu.DB_PASSWORD}' });
        expect(res.body.message).toMatch(/^LOG_LEVEL -> \$\{prod-eu\.DB_PASSWORD\}: the project has no environment 'prod-eu'/);
      }
      // A token narrowed to staging is refused as for an environment outside its scope that exists: it is not told which exist.
      const scoped = await createVaultToken(ctx.api, team.owner, { access: 'read_write', orgId: team.org.id, projectId: p.id, environments: ['staging'] });
      const missing = await ctx.api.put(path(p, 'staging'), { key: 'D', value: '${prod-eu.X}' }, { token: scoped.token });
      const existing = await ctx.api.put(path(p, 'staging'), { key: 'D', value: '${development.X}' }, { token: scoped.token });
      expect([missing.status, existing.status]).toEqual([403, 403]);
      expect(missing.body.message.replace('prod-eu', 'development')).toBe(existing.body.message);

      // Copies: bulk, promotion (and its dry run), rollback and restore of a reference the owner stored.
      await expectCopiesRefused(p, 'prod-eu', developer);
      expect(before).toEqual([]);

      // Those who could read it whatever its tier (owner, admin) may still reference it before it exists (the pull names it).
      expect((await ctx.api.put(path(p, 'staging'), { key: 'BY_ADMIN', value: '${prod-eu.DB_PASSWORD}' }, { session: team.admin.session })).status).toBe(200);
      // Once created, as production, the developer's staging values carry none of its values.
      expect((await ctx.api.post(`/v1/projects/${team.org.id}/${p.slug}/environments`, { slug: 'prod-eu', tier: 'production' }, as)).status).toBe(201);
      await seedSecrets(ctx.api, as, team.org, p, 'prod-eu', { DB_PASSWORD: 'eu-password' });
      const deploy = await createVaultToken(ctx.api, team.owner, { access: 'read', orgId: team.org.id, projectId: p.id });
      const pulled = await pull(p, 'staging', '', { token: deploy.token });
      expect(pulled.status).toBe(200);
      expect(valuesOf(pulled.body)).toEqual({ R: 'plain', BY_ADMIN: 'eu-password' });
    },
  );

  it.concurrent('names a refused chain only up to its first hop into an environment the writer cannot read', async () => {
    const p = await createProject(ctx.api, team.owner, team.org);
    // Written by the owner: a development value reaching production, whose value reaches back.
    await seedSecrets(ctx.api, as, team.org, p, 'production', { A: '${development.B}', HIDDEN: '${development.B}' });
    await seedSecrets(ctx.api, as, team.org, p, 'development', { C: '${production.A}' });
    const developer = { session: team.developer.session };
    const res = await ctx.api.put(path(p, 'development'), { key: 'B', value: '${C}' }, developer);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'B', message: 'B -> ${C} -> ${production.A} -> …: the references form a cycle' }]);
    const byOwner = await ctx.api.put(path(p, 'development'), { key: 'B', value: '${C}' }, as);
    expect(byOwner.body.errors[0].message).toBe('B -> ${C} -> ${production.A} -> ${development.B}: the references form a cycle');

    // Writing the environment it cannot read itself: the chain stops after the written value's own hop.
    const chain = Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`P${i}`, `\${P${i + 1}}`]));
    await seedSecrets(ctx.api, as, team.org, p, 'production', { ...chain, P6: 'end' });
    const deep = await ctx.api.put(path(p, 'production'), { key: 'TOP', value: '${P1}' }, developer);
    expect(deep.status).toBe(400);
    expect(deep.body.errors).toEqual([{ field: 'TOP', message: 'TOP -> ${P1} -> …: references nest deeper than 5' }]);
    expect((await ctx.api.put(path(p, 'production'), { key: 'TOP', value: '${P1}' }, as)).body.errors[0].message).toBe(
      'TOP -> ${P1} -> ${P2} -> ${P3} -> ${P4} -> ${P5} -> ${P6}: references nest deeper than 5',
    );
  });

  it.concurrent('names a chain that a write lengthens past 5 (from above) only up to its first hop into an environment the writer cannot read', async () => {
    const p = await createProject(ctx.api, team.owner, team.org);
    // The owner's: a production value holding a reference, and a staging value reaching it.
    await setSecret(ctx.api, as, team.org, p, 'production', { key: 'B', value: 'postgres://app:${HIDDEN_PROD_KEY}@db' });
    await setSecret(ctx.api, as, team.org, p, 'staging', { key: 'S4', value: '${production.B}' });
    const developer = { session: team.developer.session };
    // The developer's chain in staging, one write at a time: S0 -> S1 -> S2 -> S3 (not set yet).
    for (const [key, value] of [
      ['S0', '${S1}'],
      ['S1', '${S2}'],
      ['S2', '${S3}'],
    ]) {
      expect((await ctx.api.put(path(p, 'staging'), { key, value }, developer)).status).toBe(200);
    }
    // S3 -> S4 joins them: S0 -> … -> S4 -> production.B -> HIDDEN_PROD_KEY is six hops.
    const res = await ctx.api.put(path(p, 'staging'), { key: 'S3', value: '${S4}' }, developer);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { field: 'S3', message: 'S0 -> ${S1} -> ${S2} -> ${S3} -> ${S4} -> ${production.B} -> …: references nest deeper than 5' },
    ]);
    expect(res.text).not.toContain('HIDDEN_PROD_KEY');
    const byAdmin = await ctx.api.put(path(p, 'staging'), { key: 'S3', value: '${S4}' }, { session: team.admin.session });
    expect(byAdmin.body.errors[0].message).toBe(
      'S0 -> ${S1} -> ${S2} -> ${S3} -> ${S4} -> ${production.B} -> ${HIDDEN_PROD_KEY}: references nest deeper than 5',
    );
  });

  it.concurrent('accepts a chain 5 references deep and refuses depth 6 at write time, at import and at promotion', async () => {
    const p = await createProject(ctx.api, team.owner, team.org);
    // K0 -> K1 -> … -> K5: five hops.
    const chain = Object.fromEntries([0, 1, 2, 3, 4].map((i) => [`K${i}`, `\${K${i + 1}}`]));
    await seedSecrets(ctx.api, as, team.org, p, 'development', { ...chain, K5: 'end' });
    expect(valuesOf((await pull(p, 'development', '?keys=K0')).body)).toEqual({ K0: 'end' });
    const before = await storedState(p);
    const deep = await ctx.api.put(path(p, 'development'), { key: 'TOP', value: '${K0}' }, as);
    expect(deep.status).toBe(400);
    expect(deep.body.errors[0].message).toBe('TOP -> ${K0} -> ${K1} -> ${K2} -> ${K3} -> ${K4} -> ${K5}: references nest deeper than 5');
    const bulk = await ctx.api.post(`${path(p, 'development')}/bulk`, { secrets: [{ key: 'TOP', value: '${K0}' }] }, as);
    expect(bulk.status).toBe(400);
    expect(await storedState(p)).toEqual(before);

    // The other end: lengthening the chain at its bottom (K5 -> K6, not set yet) is refused too, naming the chain from its top.
    const bottom = await ctx.api.put(path(p, 'development'), { key: 'K5', value: '${K6}' }, as);
    expect(bottom.status).toBe(400);
    expect(bottom.body.errors[0].message).toBe('K0 -> ${K1} -> ${K2} -> ${K3} -> ${K4} -> ${K5} -> ${K6}: references nest deeper than 5');
    expect(await storedState(p)).toEqual(before);

    // Promotion copies text; copying a chain of 6 into staging (where K0…K5 exist too) is refused as a whole.
    await seedSecrets(ctx.api, as, team.org, p, 'staging', { ...chain, K5: 'end' });
    await seedSecrets(ctx.api, as, team.org, p, 'production', { TOP: '${K0}' });
    const stagingBefore = await storedState(p);
    const promotePath = `/v1/secrets/${team.org.slug}/${p.slug}/promote`;
    const promote = await ctx.api.post(promotePath, { fromEnv: 'production', toEnv: 'staging', keys: ['TOP'] }, as);
    expect(promote.status).toBe(400);
    expect(promote.body.errors[0].field).toBe('TOP');
    // The dry run says so too, rather than showing a plan the write would refuse.
    const dryRun = await ctx.api.post(promotePath, { fromEnv: 'production', toEnv: 'staging', keys: ['TOP'], dryRun: true }, as);
    expect(dryRun.status).toBe(400);
    expect(dryRun.body.errors[0].message).toBe(promote.body.errors[0].message);
    expect(await storedState(p)).toEqual(stagingBefore);
  });

  it.concurrent('refuses a restore that would bring back a value closing a cycle, changing nothing', async () => {
    const p = await createProject(ctx.api, team.owner, team.org);
    await seedSecrets(ctx.api, as, team.org, p, 'development', { A: 'plain', B: '${A}' });
    // An instant after those writes, by the database's clock (which stamps them).
    const { rows } = await ctx.db.query(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at`);
    await setSecret(ctx.api, as, team.org, p, 'development', { key: 'B', value: 'plain' });
    await setSecret(ctx.api, as, team.org, p, 'development', { key: 'A', value: '${B}' });
    const before = await storedState(p);
    const res = await ctx.api.post(`${path(p, 'development')}/restore`, { to: rows[0].at, keys: ['B'] }, as);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'B', message: 'B -> ${A} -> ${B}: the references form a cycle' }]);
    expect(await storedState(p)).toEqual(before);
  });

  it.concurrent('promotion copies references as text, resolved in the target environment', async () => {
    const p = await createProject(ctx.api, team.owner, team.org);
    await seedSecrets(ctx.api, as, team.org, p, 'staging', { HOST: 'staging-host', URL: 'https://${HOST}/' });
    await seedSecrets(ctx.api, as, team.org, p, 'production', { HOST: 'prod-host' });
    const res = await ctx.api.post(`/v1/secrets/${team.org.slug}/${p.slug}/promote`, { fromEnv: 'staging', toEnv: 'production', keys: ['URL'] }, as);
    expect(res.status).toBe(200);
    expect(valuesOf((await pull(p, 'production', '?raw=true&keys=URL')).body)).toEqual({ URL: 'https://${HOST}/' });
    expect(valuesOf((await pull(p, 'production', '?keys=URL')).body)).toEqual({ URL: 'https://prod-host/' });
  });

  it.concurrent('rejects a raw value that is not true or false', async () => {
    const p = await createProject(ctx.api, team.owner, team.org);
    const res = await pull(p, 'development', '?raw=yes');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
  });
});
