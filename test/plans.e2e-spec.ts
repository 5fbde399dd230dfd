import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { addMember, createOrg, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { createProject, secretsPath, seedSecrets } from './factories/vault.js';
import type { Response } from './support/http.js';
import { startTestContext, type TestContext } from './support/test-app.js';

/** Plans and limits as a hosted install sees them: DEFAULT_PLAN=free. */
describe('plans and limits', () => {
  let ctx: TestContext;
  let owner: TestUser;
  beforeAll(async () => {
    ctx = await startTestContext({ DEFAULT_PLAN: 'free' });
    owner = await registerUser(ctx.api, 'plans');
  });
  afterAll(() => ctx.close());
  const as = () => ({ session: owner.session });
  const override = (org: TestOrg, limits: Record<string, number>) =>
    ctx.db.query('UPDATE orgs SET limit_overrides = $2 WHERE id = $1', [org.id, JSON.stringify(limits)]);
  const newProject = (org: TestOrg) => ctx.api.post(`/v1/projects/${org.id}`, { name: `p-${randomBytes(3).toString('hex')}` }, as());

  it('puts an org with no plan on DEFAULT_PLAN and answers 403 plan_limit_exceeded naming the limit, usage and plan', async () => {
    const org = await createOrg(ctx.api, owner, 'Free');
    for (let i = 0; i < 3; i++) expect((await newProject(org)).status).toBe(201);
    const res = await newProject(org);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      code: 'plan_limit_exceeded',
      message: "Plan limit reached: projectsPerOrg (projects per organization) is 3 on the 'free' plan; current usage is 3",
    });
    const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM projects WHERE org_id = $1', [org.id]);
    expect(rows[0].n).toBe(3);
  });

  it('lets exactly the free slots through when creates race, across two app instances', async () => {
    const org = await createOrg(ctx.api, owner, 'Race');
    await override(org, { projectsPerOrg: 3 });
    const second = await ctx.startInstance({ DEFAULT_PLAN: 'free' });
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? second.http : ctx.api).post(`/v1/projects/${org.id}`, { name: `race-${i}` }, as())),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 201, 201, 403, 403, 403]);
    const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM projects WHERE org_id = $1', [org.id]);
    expect(rows[0].n).toBe(3);
  });

  it('lets exactly the free slots through when new secret keys race for an environment', async () => {
    const org = await createOrg(ctx.api, owner, 'Secret race');
    await override(org, { secretsPerEnvironment: 3 });
    const project = await createProject(ctx.api, owner, org);
    const path = secretsPath(org, project, 'staging');
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => ctx.api.put(path, { key: `RACE_${i}`, value: 'v' }, as())));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 403, 403, 403]);
    const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM secrets s JOIN environments e ON e.id = s.environment_id WHERE e.project_id = $1', [
      project.id,
    ]);
    expect(rows[0].n).toBe(3);
  });

  it('resolves org override, then plan_configs, then PLAN_LIMITS, with -1 as unlimited', async () => {
    const org = await createOrg(ctx.api, owner, 'Resolution');
    await ctx.db.query(`UPDATE orgs SET plan = 'pro' WHERE id = $1`, [org.id]);
    await ctx.db.query(`INSERT INTO plan_configs (plan_name, limits) VALUES ('pro', '{"projectsPerOrg": 1}')`);
    try {
      expect((await newProject(org)).status).toBe(201);
      const byConfig = await newProject(org);
      expect(byConfig.status).toBe(403);
      expect(byConfig.body.message).toContain("is 1 on the 'pro' plan");
      await override(org, { projectsPerOrg: -1 });
      for (let i = 0; i < 4; i++) expect((await newProject(org)).status).toBe(201);
    } finally {
      await ctx.db.query(`DELETE FROM plan_configs WHERE plan_name = 'pro'`);
    }
  });

  it('counts the three default environments against environmentsPerProject', async () => {
    const org = await createOrg(ctx.api, owner, 'Envs');
    const project = await createProject(ctx.api, owner, org);
    const res = await ctx.api.post(`/v1/projects/${org.id}/${project.slug}/environments`, { slug: 'qa' }, as());
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/environmentsPerProject .* is 3 .*current usage is 3/);
    await override(org, { environmentsPerProject: 4 });
    expect((await ctx.api.post(`/v1/projects/${org.id}/${project.slug}/environments`, { slug: 'qa' }, as())).status).toBe(201);
  });

  describe('secrets per environment', () => {
    let org: TestOrg;
    let path: string;
    let promote: (body: Record<string, unknown>) => Promise<Response>;
    beforeAll(async () => {
      org = await createOrg(ctx.api, owner, 'Secrets');
      await override(org, { secretsPerEnvironment: 3 });
      const project = await createProject(ctx.api, owner, org);
      path = secretsPath(org, project, 'development');
      await seedSecrets(ctx.api, as(), org, project, 'development', { A: '1', B: '2' });
      await seedSecrets(ctx.api, as(), org, project, 'staging', { A: 's', X: 'x', Y: 'y' });
      promote = (body) => ctx.api.post(`/v1/secrets/${org.slug}/${project.slug}/promote`, body, as());
    });

    it('counts only the keys a bulk import would add, and refuses the whole import past the limit', async () => {
      expect(
        (
          await ctx.api.post(
            `${path}/bulk`,
            {
              secrets: [
                { key: 'B', value: '3' },
                { key: 'C', value: '3' },
              ],
            },
            as(),
          )
        ).status,
      ).toBe(200);
      const res = await ctx.api.post(
        `${path}/bulk`,
        {
          secrets: [
            { key: 'A', value: '9' },
            { key: 'D', value: '4' },
          ],
        },
        as(),
      );
      expect(res.status).toBe(403);
      expect(res.body.message).toMatch(/secretsPerEnvironment .*current usage is 3/);
      const { rows } = await ctx.db.query(`SELECT count(*)::int AS n FROM secrets WHERE key = 'D'`);
      expect(rows[0].n).toBe(0);
    });

    it('still updates existing keys of a full environment, and refuses a new one', async () => {
      expect((await ctx.api.put(path, { key: 'A', value: 'updated' }, as())).status).toBe(200);
      const res = await ctx.api.put(path, { key: 'E', value: 'new' }, as());
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('plan_limit_exceeded');
    });

    it('counts the keys a promotion would add, not those it overwrites', async () => {
      const adding = await promote({ fromEnv: 'staging', toEnv: 'development', keys: ['X'] });
      expect(adding.status).toBe(403);
      expect(adding.body.code).toBe('plan_limit_exceeded');
      const overwriting = await promote({ fromEnv: 'staging', toEnv: 'development', keys: ['A'], overwrite: true });
      expect(overwriting.status).toBe(200);
      expect(overwriting.body).toMatchObject({ created: 0, updated: 1 });
    });
  });

  it('counts members plus pending invitations, when inviting and when accepting', async () => {
    const org = await createOrg(ctx.api, owner, 'Members');
    await override(org, { membersPerOrg: 3 });
    const [first, second, third] = await Promise.all([registerUser(ctx.api, 'm1'), registerUser(ctx.api, 'm2'), registerUser(ctx.api, 'm3')]);
    const invite = (user: TestUser) => ctx.api.post(`/v1/members/${org.id}/invite`, { email: user.email, role: 'developer' }, as());
    const one = await invite(first);
    expect(one.status).toBe(201);
    expect((await invite(second)).status).toBe(201);
    const refused = await invite(third);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/membersPerOrg .*current usage is 3/);
    // A downgrade below what is already there: accepting an older invitation is refused too.
    await override(org, { membersPerOrg: 2 });
    const accept = await ctx.api.post(`/v1/members/invite/${one.body.token}/accept`, undefined, { session: first.session });
    expect(accept.status).toBe(403);
    expect(accept.body.code).toBe('plan_limit_exceeded');
  });

  it("limits a user's active tokens by the most generous plan among their orgs", async () => {
    const user = await registerUser(ctx.api, 'tokens');
    // Three orgs with three limits, the most generous neither the user's own org nor the last one joined.
    const generous = await createOrg(ctx.api, owner, 'Generous');
    const stingy = await createOrg(ctx.api, owner, 'Stingy');
    await override(user.personalOrg, { tokensPerUser: 2 });
    await override(generous, { tokensPerUser: 3 });
    await override(stingy, { tokensPerUser: 1 });
    await addMember(ctx.api, generous, owner, user, 'viewer');
    await addMember(ctx.api, stingy, owner, user, 'viewer');
    const create = () => ctx.api.post('/v1/auth/token', { name: 't', access: 'read' }, { session: user.session });
    const first = await create();
    expect(first.status).toBe(201);
    expect((await create()).status).toBe(201);
    expect((await create()).status).toBe(201);
    const refused = await create();
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/tokensPerUser .*is 3 .*current usage is 3/);
    // …and says what to do about it.
    expect(refused.body.message).toContain('`secr tokens` lists them, `secr tokens revoke <id>` revokes one');
    // Revoked tokens do not count.
    expect((await ctx.api.delete(`/v1/auth/tokens/${first.body.id}`, { session: user.session })).status).toBeLessThan(300);
    expect((await create()).status).toBe(201);
  });

  it('never deletes data on a downgrade: an org over its limit keeps everything and just cannot create more', async () => {
    const org = await createOrg(ctx.api, owner, 'Downgrade');
    await ctx.db.query(`UPDATE orgs SET plan = 'pro' WHERE id = $1`, [org.id]);
    for (let i = 0; i < 5; i++) expect((await newProject(org)).status).toBe(201);
    await ctx.db.query(`UPDATE orgs SET plan = 'free' WHERE id = $1`, [org.id]);
    const list = await ctx.api.get(`/v1/projects/${org.id}`, as());
    expect(list.body.projects).toHaveLength(5);
    const res = await newProject(org);
    expect(res.status).toBe(403);
    expect(res.body.message).toContain("is 3 on the 'free' plan; current usage is 5");
  });

  it('never limits a self-hosted install (DEFAULT_PLAN=enterprise)', async () => {
    const selfHosted = await ctx.startInstance({ DEFAULT_PLAN: 'enterprise' });
    const org = await createOrg(selfHosted.http, owner, 'Self-hosted');
    for (let i = 0; i < 6; i++) {
      expect((await selfHosted.http.post(`/v1/projects/${org.id}`, { name: `sh-${i}` }, as())).status).toBe(201);
    }
    const project = (await selfHosted.http.get(`/v1/projects/${org.id}`, as())).body.projects[0];
    expect((await selfHosted.http.post(`/v1/projects/${org.id}/${project.slug}/environments`, { slug: 'qa' }, as())).status).toBe(201);
  });
});
