import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createOrg, createToken, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { verifyEmail } from './factories/mail.js';
import { createProject, seedSecrets } from './factories/vault.js';
import { startTestContext, type TestContext } from './support/test-app.js';

const ADMIN_EMAIL = 'root-admin@example.com';
const LATE_ADMIN_EMAIL = 'late-admin@example.com';

/** The admin console on a hosted install (DEFAULT_PLAN=free), with one admin address configured. */
describe('admin API', () => {
  let ctx: TestContext;
  let admin: TestUser;
  beforeAll(async () => {
    ctx = await startTestContext({ DEFAULT_PLAN: 'free', SECR_ADMIN_EMAILS: `${ADMIN_EMAIL.toUpperCase()}, other@example.com` });
    admin = await registerUser(ctx.api, 'admin', ADMIN_EMAIL);
    await verifyEmail(ctx.api, ctx.db, admin.id);
  });
  afterAll(() => ctx.close());
  const as = () => ({ session: admin.session });
  const auditRows = async (action: string) =>
    (await ctx.db.query('SELECT org_id, actor_user_id, metadata FROM audit_events WHERE action = $1 ORDER BY created_at', [action])).rows;
  /** A customer of its own for each test: an owner, an org on no plan, one project with two secrets. */
  const customer = async (): Promise<{ owner: TestUser; org: TestOrg }> => {
    const owner = await registerUser(ctx.api, 'owner');
    const org = await createOrg(ctx.api, owner, 'Customer');
    const project = await createProject(ctx.api, owner, org);
    await seedSecrets(ctx.api, { session: owner.session }, org, project, 'development', { A: '1', B: '2' });
    return { owner, org };
  };

  it('marks SECR_ADMIN_EMAILS accounts as admins at sign-up, whatever the case of the address', async () => {
    const me = await ctx.api.get('/v1/auth/me', as());
    expect(me.body.isAdmin ?? me.body.user?.isAdmin).toBe(true);
    const owner = await registerUser(ctx.api, 'owner');
    const { rows } = await ctx.db.query('SELECT is_admin FROM users WHERE id = $1', [owner.id]);
    expect(rows[0].is_admin).toBe(false);
  });

  it('marks existing accounts as admins at start-up', async () => {
    const late = await registerUser(ctx.api, 'late', LATE_ADMIN_EMAIL);
    await verifyEmail(ctx.api, ctx.db, late.id);
    expect((await ctx.api.get('/v1/admin/stats', { session: late.session })).status).toBe(403);
    await ctx.startInstance({ SECR_ADMIN_EMAILS: LATE_ADMIN_EMAIL });
    expect((await ctx.api.get('/v1/admin/stats', { session: late.session })).status).toBe(200);
  });

  it('refuses an admin address until it is verified: registering it first must not be enough', async () => {
    const squatter = await registerUser(ctx.api, 'squatter', 'other@example.com');
    const res = await ctx.api.get('/v1/admin/stats', { session: squatter.session });
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/verify/);
    await verifyEmail(ctx.api, ctx.db, squatter.id);
    expect((await ctx.api.get('/v1/admin/stats', { session: squatter.session })).status).toBe(200);
  });

  it('refuses non-admins with 403 and the anonymous with 401', async () => {
    const owner = await registerUser(ctx.api, 'owner');
    const res = await ctx.api.get('/v1/admin/orgs', { session: owner.session });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
    expect((await ctx.api.get('/v1/admin/orgs')).status).toBe(401);
  });

  it('counts users, orgs, projects and current secrets', async () => {
    const before = await ctx.api.get('/v1/admin/stats', as());
    expect(before.status).toBe(200);
    // One more of each (a user with a personal org and one more org); two secrets, one of them deleted.
    const { owner, org } = await customer();
    const project = (await ctx.api.get(`/v1/projects/${org.id}`, { session: owner.session })).body.projects[0];
    expect((await ctx.api.delete(`/v1/secrets/${org.slug}/${project.slug}/development/B`, { session: owner.session })).status).toBeLessThan(300);
    const res = await ctx.api.get('/v1/admin/stats', as());
    expect(res.body).toEqual({
      users: before.body.users + 1,
      orgs: before.body.orgs + 2,
      projects: before.body.projects + 1,
      secrets: before.body.secrets + 1,
    });
    const { rows } = await ctx.db.query('SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM orgs) AS orgs');
    expect(res.body).toMatchObject(rows[0]);
  });

  it('lists orgs with their usage, paginated', async () => {
    const { org } = await customer();
    const all = await ctx.api.get('/v1/admin/orgs', as());
    expect(all.status).toBe(200);
    expect(all.body.pagination).toBeUndefined();
    const listed = all.body.orgs.find((o: { id: string }) => o.id === org.id);
    expect(listed).toMatchObject({ plan: null, effectivePlan: 'free', usage: { projects: 1, members: 1, pendingInvites: 0, webhooks: 0, secrets: 2 } });
    const page = await ctx.api.get('/v1/admin/orgs?limit=1&offset=1', as());
    expect(page.body.orgs).toHaveLength(1);
    expect(page.body.pagination).toEqual({ limit: 1, offset: 1, total: all.body.orgs.length });
    expect(page.body.orgs[0].id).toBe(all.body.orgs[1].id);
    expect((await ctx.api.get('/v1/admin/orgs?limit=0', as())).status).toBe(400);
  });

  it('shows an org with its effective limits and where each comes from', async () => {
    const { org } = await customer();
    expect((await ctx.api.put('/v1/admin/plans/free', { limits: { membersPerOrg: 9 } }, as())).status).toBe(200);
    try {
      await ctx.db.query(`UPDATE orgs SET limit_overrides = '{"webhooksPerOrg": -1}' WHERE id = $1`, [org.id]);
      const res = await ctx.api.get(`/v1/admin/orgs/${org.id}`, as());
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: org.id,
        limitOverrides: { webhooksPerOrg: -1 },
        limits: {
          projectsPerOrg: { value: 3, source: 'default' },
          membersPerOrg: { value: 9, source: 'plan_config' },
          webhooksPerOrg: { value: -1, source: 'override' },
        },
      });
      expect((await ctx.api.get('/v1/admin/orgs/00000000-0000-4000-8000-000000000000', as())).status).toBe(404);
    } finally {
      await ctx.api.put('/v1/admin/plans/free', { limits: {} }, as());
    }
  });

  it("changes an org's plan and overrides, audited against the org, and a downgrade keeps the data", async () => {
    const { owner, org } = await customer();
    const up = await ctx.api.patch(`/v1/admin/orgs/${org.id}`, { plan: 'pro', limitOverrides: { projectsPerOrg: 5 } }, as());
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ plan: 'pro', effectivePlan: 'pro', limits: { projectsPerOrg: { value: 5, source: 'override' } } });
    for (let i = 0; i < 4; i++) expect((await ctx.api.post(`/v1/projects/${org.id}`, { name: `more-${i}` }, { session: owner.session })).status).toBe(201);

    const down = await ctx.api.patch(`/v1/admin/orgs/${org.id}`, { plan: null, limitOverrides: {} }, as());
    expect(down.body).toMatchObject({ plan: null, effectivePlan: 'free', limitOverrides: {}, usage: { projects: 5, secrets: 2 } });
    const refused = await ctx.api.post(`/v1/projects/${org.id}`, { name: 'one-too-many' }, { session: owner.session });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain("is 3 on the 'free' plan; current usage is 5");
    expect((await ctx.api.get(`/v1/projects/${org.id}`, { session: owner.session })).body.projects).toHaveLength(5);

    const audited = (await auditRows('admin.org_plan_updated')).filter((r) => r.org_id === org.id);
    expect(audited).toHaveLength(2);
    expect(audited[0]).toMatchObject({ org_id: org.id, actor_user_id: admin.id, metadata: { after: { plan: 'pro', limitOverrides: { projectsPerOrg: 5 } } } });
  });

  it('validates plan names and limit values, changing nothing', async () => {
    const { org } = await customer();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ plan: 'platinum' }, 'plan'],
      [{ limitOverrides: { projectsPerOrg: -2 } }, 'limitOverrides.projectsPerOrg'],
      [{ limitOverrides: { projectsPerOrg: 1.5 } }, 'limitOverrides.projectsPerOrg'],
      [{ limitOverrides: { seatsPerDesk: 1 } }, 'limitOverrides.seatsPerDesk'],
    ];
    for (const [body, field] of cases) {
      const res = await ctx.api.patch(`/v1/admin/orgs/${org.id}`, body, as());
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect((await ctx.api.put('/v1/admin/plans/platinum', { limits: {} }, as())).status).toBe(404);
    expect((await ctx.api.put('/v1/admin/plans/pro', { limits: { tokensPerUser: 'many' } }, as())).status).toBe(400);
    expect((await ctx.db.query('SELECT plan FROM orgs WHERE id = $1', [org.id])).rows[0].plan).toBeNull();
  });

  it('lists plans and replaces a plan config at run time, audited without an org, effective at once', async () => {
    const { owner, org } = await customer();
    for (let i = 0; i < 2; i++) expect((await ctx.api.post(`/v1/projects/${org.id}`, { name: `more-${i}` }, { session: owner.session })).status).toBe(201);
    expect((await ctx.api.post(`/v1/projects/${org.id}`, { name: 'fourth' }, { session: owner.session })).status).toBe(403);
    const put = await ctx.api.put('/v1/admin/plans/free', { limits: { projectsPerOrg: 6, tokensPerUser: -1 } }, as());
    try {
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({ name: 'free', isDefault: true, config: { projectsPerOrg: 6, tokensPerUser: -1 } });
      const list = await ctx.api.get('/v1/admin/plans', as());
      expect(list.body.plans.map((p: { name: string }) => p.name)).toEqual(['free', 'pro', 'team', 'enterprise']);
      expect(list.body.plans[0].limits).toMatchObject({ projectsPerOrg: { value: 6, source: 'plan_config' }, webhooksPerOrg: { source: 'default' } });
      expect(list.body.plans[3].limits.projectsPerOrg).toEqual({ value: -1, source: 'default' });
      // The org above has 3 projects, the default limit: the free plan now allows a fourth.
      expect((await ctx.api.post(`/v1/projects/${org.id}`, { name: 'fourth' }, { session: owner.session })).status).toBe(201);
      const audited = await auditRows('admin.plan_config_updated');
      expect(audited.at(-1)).toMatchObject({
        org_id: null,
        actor_user_id: admin.id,
        metadata: { plan: 'free', after: { projectsPerOrg: 6, tokensPerUser: -1 } },
      });
    } finally {
      await ctx.api.put('/v1/admin/plans/free', { limits: {} }, as());
    }
  });

  it("lets an admin's unscoped tokens in: read tokens only read", async () => {
    const read = await createToken(ctx.api, admin, { access: 'read' });
    const write = await createToken(ctx.api, admin, { access: 'read_write' });
    expect((await ctx.api.get('/v1/admin/plans', { token: read.token })).status).toBe(200);
    expect((await ctx.api.put('/v1/admin/plans/team', { limits: {} }, { token: read.token })).status).toBe(403);
    expect((await ctx.api.put('/v1/admin/plans/team', { limits: {} }, { token: write.token })).status).toBe(200);
    const scoped = await createToken(ctx.api, admin, { access: 'read_write', orgId: admin.personalOrg.id });
    expect((await ctx.api.get('/v1/admin/stats', { token: scoped.token })).status).toBe(403);
  });
});
