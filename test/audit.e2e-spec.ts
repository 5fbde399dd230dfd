import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { addMember, createOrg, createToken, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { createProject, secretsPath, seedSecrets, type TestProject } from './factories/vault.js';
import { startTestContext, type TestContext } from './support/test-app.js';

/** DESIGN.md §5: every read, write, delete and rotation is an audit row, written with the change. */
describe('audit log', () => {
  let ctx: TestContext;
  let owner: TestUser;
  let org: TestOrg;
  let project: TestProject;
  beforeAll(async () => {
    ctx = await startTestContext();
    owner = await registerUser(ctx.api, 'auditor');
    org = await createOrg(ctx.api, owner, 'Audited');
    project = await createProject(ctx.api, owner, org);
  });
  afterAll(() => ctx.close());
  const as = () => ({ session: owner.session });
  const events = async (query = '') => (await ctx.api.get(`/v1/audit/${org.id}${query}`, as())).body;

  it('records pulls, writes, deletes and rotations with actor, address, request id and names, never values', async () => {
    const secret = `audit-secret-${randomBytes(6).toString('hex')}`;
    const { token } = await createToken(ctx.api, owner, { access: 'read_write', orgId: org.id });
    const path = secretsPath(org, project, 'development');
    await ctx.api.put(path, { key: 'AUDITED', value: secret }, { token, headers: { 'user-agent': 'audit-test/1.0' } });
    await ctx.api.put(path, { key: 'AUDITED', value: `${secret}-2` }, as());
    await seedSecrets(ctx.api, as(), org, project, 'development', { BULK_A: secret, BULK_B: secret });
    const pull = await ctx.api.get(path, { token });
    await ctx.api.get(`${path}/versions/AUDITED`, as());
    await ctx.api.post(`${path}/rollback`, { key: 'AUDITED', version: 1 }, as());
    await ctx.api.delete(`${path}/BULK_A`, as());
    await ctx.api.post(`${path}/bulk-delete`, { keys: ['BULK_B'] }, as());
    await ctx.api.post(`/v1/projects/${org.id}/${project.slug}/rotate-key`, undefined, as());

    const page = await events('?limit=500');
    const actions = page.events.map((e: { action: string }) => e.action);
    for (const action of [
      'secret.created',
      'secret.updated',
      'secret.bulk_set',
      'secret.read',
      'secret.history_read',
      'secret.rolled_back',
      'secret.deleted',
      'secret.bulk_delete',
      'project.key_rotation_started',
      'project.key_rotated',
      'project.created',
    ]) {
      expect(actions).toContain(action);
    }
    const created = page.events.find((e: { action: string }) => e.action === 'secret.created');
    expect(created).toMatchObject({
      actorUserId: expect.any(String),
      actorEmail: owner.email,
      actorTokenId: expect.any(String),
      ip: '127.0.0.1',
      userAgent: 'audit-test/1.0',
      requestId: expect.any(String),
      metadata: { key: 'AUDITED', version: 1, project: project.slug, environment: 'development' },
    });
    const read = page.events.find((e: { action: string; requestId: string }) => e.requestId === pull.headers.get('x-request-id'));
    expect(read).toMatchObject({ action: 'secret.read', metadata: { count: 3 } });

    const { rows } = await ctx.db.query(`SELECT a::text AS row FROM audit_events a`);
    for (const { row } of rows) {
      expect(row).not.toContain(secret);
      expect(row).not.toContain(token);
    }
  });

  it('writes one row per pull when many pulls run at once', async () => {
    await seedSecrets(ctx.api, as(), org, project, 'staging', { CONCURRENT_A: 'a', CONCURRENT_B: 'b' });
    const pulls = await Promise.all(Array.from({ length: 24 }, () => ctx.api.get(secretsPath(org, project, 'staging'), as())));
    expect(pulls.map((res) => res.status)).toEqual(pulls.map(() => 200));
    const ids = pulls.map((res) => res.headers.get('x-request-id')!);
    expect(new Set(ids).size).toBe(24);
    const { rows } = await ctx.db.query(
      `SELECT request_id, action, metadata->>'count' AS count FROM audit_events WHERE request_id = ANY($1) ORDER BY request_id`,
      [ids],
    );
    expect(rows).toEqual([...ids].sort().map((id) => ({ request_id: id, action: 'secret.read', count: String(pulls[0].body.secrets.length) })));
  });

  it('pages newest first and filters by action', async () => {
    await seedSecrets(ctx.api, as(), org, project, 'staging', { PAGED: 'x' });
    const first = await events('?limit=2&offset=0');
    const second = await events('?limit=2&offset=2');
    expect(first.events).toHaveLength(2);
    expect(first.pagination).toEqual({ limit: 2, offset: 0, total: expect.any(Number) });
    expect(first.pagination.total).toBeGreaterThan(4);
    expect(Number(first.events[0].id)).toBeGreaterThan(Number(first.events[1].id));
    expect(Number(first.events[1].id)).toBeGreaterThan(Number(second.events[0].id));
    const filtered = await events('?action=secret.bulk_set');
    expect(filtered.events.length).toBeGreaterThan(0);
    expect(filtered.events.every((e: { action: string }) => e.action === 'secret.bulk_set')).toBe(true);
    expect((await ctx.api.get(`/v1/audit/${org.id}?limit=0`, as())).status).toBe(400);
    expect((await ctx.api.get(`/v1/audit/${org.id}?action=DROP TABLE`, as())).status).toBe(400);
  });

  it('shows an org only its own events', async () => {
    const other = await registerUser(ctx.api, 'other');
    const otherOrg = await createOrg(ctx.api, other, 'Other');
    const res = await ctx.api.get(`/v1/audit/${otherOrg.id}?limit=500`, { session: other.session });
    expect(res.status).toBe(200);
    expect(res.body.events.every((e: { metadata: Record<string, unknown> }) => e.metadata.project !== project.slug)).toBe(true);
  });

  it('is refused to developers', async () => {
    const dev = await registerUser(ctx.api, 'dev');
    await addMember(ctx.api, org, owner, dev, 'developer');
    expect((await ctx.api.get(`/v1/audit/${org.id}`, { session: dev.session })).status).toBe(403);
  });

  describe('fail closed', () => {
    // A constraint makes PostgreSQL refuse one action's audit rows, as a full disk or a broken
    // audit table would.
    async function refuseAudit(action: string, run: () => Promise<void>, onlyWhere = 'true'): Promise<void> {
      await ctx.db.query(`ALTER TABLE audit_events ADD CONSTRAINT refuse_for_test CHECK (NOT (action = '${action}' AND ${onlyWhere})) NOT VALID`);
      try {
        await run();
      } finally {
        await ctx.db.query('ALTER TABLE audit_events DROP CONSTRAINT refuse_for_test');
      }
    }

    it('returns no values when the read cannot be audited', async () => {
      await seedSecrets(ctx.api, as(), org, project, 'development', { UNAUDITED: 'must-not-leak' });
      await refuseAudit('secret.read', async () => {
        const res = await ctx.api.get(secretsPath(org, project, 'development'), as());
        expect(res.status).toBe(500);
        expect(res.text).not.toContain('must-not-leak');
      });
    });

    it('fails only the pulls whose rows are refused when pulls run at once', async () => {
      await seedSecrets(ctx.api, as(), org, project, 'staging', { STAGED: 'staged-must-not-leak' });
      await refuseAudit(
        'secret.read',
        async () => {
          const envs = Array.from({ length: 12 }, (_, i) => (i % 2 ? 'staging' : 'development'));
          const pulls = await Promise.all(envs.map((env) => ctx.api.get(secretsPath(org, project, env), as())));
          expect(pulls.map((res) => res.status)).toEqual(envs.map((env) => (env === 'staging' ? 500 : 200)));
          for (const res of pulls.filter((r) => r.status === 500)) expect(res.text).not.toContain('staged-must-not-leak');
        },
        `metadata->>'environment' = 'staging'`,
      );
    });

    it('rolls the write back when its audit row cannot be written', async () => {
      await refuseAudit('secret.created', async () => {
        const res = await ctx.api.put(secretsPath(org, project, 'development'), { key: 'NEVER_WRITTEN', value: 'x' }, as());
        expect(res.status).toBe(500);
      });
      const { rows } = await ctx.db.query(`SELECT count(*)::int AS n FROM secrets WHERE key = 'NEVER_WRITTEN'`);
      expect(rows[0].n).toBe(0);
    });

    it('rolls a bulk import back when its audit row cannot be written', async () => {
      await refuseAudit('secret.bulk_set', async () => {
        const res = await ctx.api.post(
          `${secretsPath(org, project, 'development')}/bulk`,
          {
            secrets: [
              { key: 'NOPE_1', value: 'x' },
              { key: 'NOPE_2', value: 'y' },
            ],
          },
          as(),
        );
        expect(res.status).toBe(500);
      });
      const { rows } = await ctx.db.query(`SELECT count(*)::int AS n FROM secrets WHERE key LIKE 'NOPE_%'`);
      expect(rows[0].n).toBe(0);
    });
  });
});
