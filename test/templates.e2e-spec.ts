import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { addMember, createOrg, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { createProject, seedSecrets, type TestProject } from './factories/vault.js';
import { startTestContext, type TestContext } from './support/test-app.js';

describe('templates', () => {
  let ctx: TestContext;
  let owner: TestUser;
  let org: TestOrg;
  beforeAll(async () => {
    ctx = await startTestContext();
    owner = await registerUser(ctx.api, 'templater');
    org = await createOrg(ctx.api, owner, 'Templates');
  });
  afterAll(() => ctx.close());
  const as = () => ({ session: owner.session });
  const base = (project: TestProject) => `/v1/templates/${org.slug}/${project.slug}`;

  it('adds keys (required by default), lists them sorted, and removes them', async () => {
    const project = await createProject(ctx.api, owner, org);
    const added = await ctx.api.post(base(project), { key: 'DATABASE_URL', description: 'Primary database' }, as());
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ key: 'DATABASE_URL', description: 'Primary database', required: true });
    await ctx.api.post(base(project), { key: 'SENTRY_DSN', required: false }, as());
    await ctx.api.post(base(project), { key: 'API_KEY' }, as());

    const list = await ctx.api.get(base(project), as());
    expect(list.body.templates.map((t: { key: string; required: boolean }) => [t.key, t.required])).toEqual([
      ['API_KEY', true],
      ['DATABASE_URL', true],
      ['SENTRY_DSN', false],
    ]);
    expect((await ctx.api.delete(`${base(project)}/API_KEY`, as())).status).toBe(204);
    expect((await ctx.api.delete(`${base(project)}/API_KEY`, as())).status).toBe(404);
    expect((await ctx.api.get(base(project), as())).body.templates).toHaveLength(2);
  });

  it('refuses a key the template already lists with 409', async () => {
    const project = await createProject(ctx.api, owner, org);
    await ctx.api.post(base(project), { key: 'ONCE' }, as());
    expect((await ctx.api.post(base(project), { key: 'ONCE', required: false }, as())).status).toBe(409);
  });

  it('validates an environment: missing required keys, extra keys, optional keys counted as neither', async () => {
    const project = await createProject(ctx.api, owner, org);
    for (const body of [{ key: 'DATABASE_URL' }, { key: 'REDIS_URL' }, { key: 'SENTRY_DSN', required: false }, { key: 'FEATURE_X', required: false }]) {
      await ctx.api.post(base(project), body, as());
    }
    await seedSecrets(ctx.api, as(), org, project, 'production', { DATABASE_URL: 'x', SENTRY_DSN: 'y', LEFTOVER: 'z' });
    const res = await ctx.api.get(`${base(project)}/validate/production`, as());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ valid: false, missing: ['REDIS_URL'], extra: ['LEFTOVER'] });

    await seedSecrets(ctx.api, as(), org, project, 'production', { REDIS_URL: 'r' });
    expect((await ctx.api.get(`${base(project)}/validate/prod`, as())).body).toEqual({ valid: true, missing: [], extra: ['LEFTOVER'] });
  });

  it('does not count a deleted secret as set', async () => {
    const project = await createProject(ctx.api, owner, org);
    await ctx.api.post(base(project), { key: 'GONE' }, as());
    await seedSecrets(ctx.api, as(), org, project, 'development', { GONE: 'soon' });
    await ctx.api.delete(`/v1/secrets/${org.slug}/${project.slug}/development/GONE`, as());
    expect((await ctx.api.get(`${base(project)}/validate/development`, as())).body).toEqual({ valid: false, missing: ['GONE'], extra: [] });
  });

  it('answers 404 for an unknown project or environment', async () => {
    const project = await createProject(ctx.api, owner, org);
    expect((await ctx.api.get(`/v1/templates/${org.slug}/no-such-project`, as())).status).toBe(404);
    expect((await ctx.api.get(`${base(project)}/validate/qa`, as())).status).toBe(404);
  });

  it('lets developers and viewers read the template but not change it, and audits changes', async () => {
    const project = await createProject(ctx.api, owner, org);
    expect((await ctx.api.post(base(project), { key: 'KEPT' }, as())).status).toBe(201);
    for (const role of ['developer', 'viewer'] as const) {
      const member = await registerUser(ctx.api, role);
      await addMember(ctx.api, org, owner, member, role);
      const read = await ctx.api.get(base(project), { session: member.session });
      expect(read.status).toBe(200);
      expect(JSON.stringify(read.body)).toContain('KEPT');
      expect((await ctx.api.post(base(project), { key: 'NOPE' }, { session: member.session })).status).toBe(403);
      expect((await ctx.api.delete(`${base(project)}/KEPT`, { session: member.session })).status).toBe(403);
    }
    expect((await ctx.api.post(base(project), { key: 'AUDITED' }, as())).status).toBe(201);
    expect((await ctx.api.delete(`${base(project)}/AUDITED`, as())).status).toBe(204);
    const { rows } = await ctx.db.query(`SELECT action FROM audit_events WHERE metadata->>'projectId' = $1 AND action LIKE 'template.%' ORDER BY id`, [
      project.id,
    ]);
    expect(rows.map((r) => r.action)).toEqual(['template.added', 'template.added', 'template.removed']);
  });
});
