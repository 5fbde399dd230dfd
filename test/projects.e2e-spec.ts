import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { addMember, createOrg, createToken, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { createProject, secretsPath, seedSecrets } from './factories/vault.js';
import { startTestContext, type TestContext } from './support/test-app.js';

describe('projects and environments', () => {
  let ctx: TestContext;
  let owner: TestUser;
  let org: TestOrg;
  beforeAll(async () => {
    ctx = await startTestContext();
    owner = await registerUser(ctx.api, 'projects');
    org = await createOrg(ctx.api, owner, 'Projects');
  });
  afterAll(() => ctx.close());
  const as = () => ({ session: owner.session });
  const unique = () => randomBytes(3).toString('hex');

  it('creates a project with development, staging and production environments of their own tiers, and key version 1', async () => {
    const res = await ctx.api.post(`/v1/projects/${org.id}`, { name: 'Billing API', description: 'Payments' }, as());
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ slug: 'billing-api', name: 'Billing API', description: 'Payments', keyVersion: 1 });
    expect(res.body.environments.map((e: { slug: string; tier: string; secretCount: number }) => [e.slug, e.tier, e.secretCount])).toEqual([
      ['development', 'development', 0],
      ['staging', 'staging', 0],
      ['production', 'production', 0],
    ]);
    const { rows } = await ctx.db.query('SELECT version FROM project_keys WHERE project_id = $1', [res.body.id]);
    expect(rows).toEqual([{ version: 1 }]);
  });

  it('refuses a slug already used in the org with 409, and creates nothing', async () => {
    const slug = `dup-${unique()}`;
    await createProject(ctx.api, owner, org, slug);
    const res = await ctx.api.post(`/v1/projects/${org.id}`, { name: 'Again', slug }, as());
    expect(res.status).toBe(409);
    const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM projects WHERE slug = $1', [slug]);
    expect(rows[0].n).toBe(1);
  });

  it('allows the same project slug in two orgs', async () => {
    const other = await createOrg(ctx.api, owner, 'Second');
    const slug = `shared-${unique()}`;
    await createProject(ctx.api, owner, org, slug);
    expect((await ctx.api.post(`/v1/projects/${other.id}`, { name: slug, slug }, as())).status).toBe(201);
  });

  it('lists the org’s projects with secret counts, and gets one by slug', async () => {
    const project = await createProject(ctx.api, owner, org);
    await seedSecrets(ctx.api, as(), org, project, 'staging', { A: '1', B: '2' });
    const list = await ctx.api.get(`/v1/projects/${org.id}`, as());
    const listed = list.body.projects.find((p: { slug: string }) => p.slug === project.slug);
    expect(listed.environments.find((e: { slug: string }) => e.slug === 'staging').secretCount).toBe(2);
    const one = await ctx.api.get(`/v1/projects/${org.id}/${project.slug}`, as());
    expect(one.body).toMatchObject({ id: project.id, slug: project.slug });
    expect((await ctx.api.get(`/v1/projects/${org.id}/no-such-project`, as())).status).toBe(404);
  });

  it('creates a custom environment, production tier by default, readable only by owner and admin', async () => {
    const project = await createProject(ctx.api, owner, org);
    const res = await ctx.api.post(`/v1/projects/${org.id}/${project.slug}/environments`, { slug: 'qa' }, as());
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ slug: 'qa', name: 'qa', tier: 'production' });
    await seedSecrets(ctx.api, as(), org, project, 'qa', { QA_ONLY: 'q' });
    const dev = await registerUser(ctx.api, 'dev');
    await addMember(ctx.api, org, owner, dev, 'developer');
    expect((await ctx.api.get(secretsPath(org, project, 'qa'), { session: dev.session })).status).toBe(403);

    const preview = await ctx.api.post(`/v1/projects/${org.id}/${project.slug}/environments`, { slug: 'preview', name: 'Preview', tier: 'development' }, as());
    expect(preview.body.tier).toBe('development');
    await seedSecrets(ctx.api, as(), org, project, 'preview', { P: 'p' });
    expect((await ctx.api.get(secretsPath(org, project, 'preview'), { session: dev.session })).status).toBe(200);
  });

  it.each(['staging', 'prod', 'dev'])('refuses a custom environment named %s (taken, or an alias) with 409', async (slug) => {
    const project = await createProject(ctx.api, owner, org);
    const res = await ctx.api.post(`/v1/projects/${org.id}/${project.slug}/environments`, { slug }, as());
    expect(res.status).toBe(409);
  });

  it('answers to the dev, stg and prod aliases', async () => {
    const project = await createProject(ctx.api, owner, org);
    await seedSecrets(ctx.api, as(), org, project, 'production', { WHERE: 'prod' });
    const res = await ctx.api.get(secretsPath(org, project, 'prod'), as());
    expect(res.body.secrets).toEqual([expect.objectContaining({ key: 'WHERE', value: 'prod' })]);
    expect((await ctx.api.get(secretsPath(org, project, 'stg'), as())).status).toBe(200);
    expect((await ctx.api.get(secretsPath(org, project, 'dev'), as())).status).toBe(200);
  });

  it('deletes a project with its environments, secrets, history, keys and scoped tokens (owner only)', async () => {
    const project = await createProject(ctx.api, owner, org);
    await seedSecrets(ctx.api, as(), org, project, 'development', { GONE: 'soon' });
    const scoped = await ctx.api.post('/v1/auth/token', { name: 's', access: 'read', orgId: org.id, projectId: project.id }, as());
    expect(scoped.status).toBe(201);
    const res = await ctx.api.delete(`/v1/projects/${org.id}/${project.slug}`, as());
    expect(res.status).toBe(204);
    for (const table of ['environments', 'secrets', 'secret_versions', 'project_keys', 'api_tokens']) {
      const { rows } = await ctx.db.query(`SELECT count(*)::int AS n FROM ${table} WHERE project_id = $1`, [project.id]);
      expect({ table, n: rows[0].n }).toEqual({ table, n: 0 });
    }
    expect((await ctx.api.get('/v1/auth/me', { token: scoped.body.token })).status).toBe(401);
  });

  it('shows a project-scoped token only its project', async () => {
    const a = await createProject(ctx.api, owner, org);
    await createProject(ctx.api, owner, org);
    const res = await ctx.api.post('/v1/auth/token', { name: 's', access: 'read', orgId: org.id, projectId: a.id }, as());
    const list = await ctx.api.get(`/v1/projects/${org.id}`, { token: res.body.token });
    expect(list.body.projects.map((p: { slug: string }) => p.slug)).toEqual([a.slug]);
  });

  it('keeps a project- or environment-narrowed token to secrets: org-wide actions are refused', async () => {
    const project = await createProject(ctx.api, owner, org);
    await seedSecrets(ctx.api, as(), org, project, 'development', { NARROW: 'ok' });
    const narrowed = [
      await ctx.api.post('/v1/auth/token', { name: 'p', access: 'read_write', orgId: org.id, projectId: project.id }, as()),
      await ctx.api.post('/v1/auth/token', { name: 'e', access: 'read_write', orgId: org.id, environments: ['development'] }, as()),
    ];
    for (const { body } of narrowed) {
      const token = body.token as string;
      expect((await ctx.api.get(secretsPath(org, project, 'development'), { token })).status).toBe(200);
      expect((await ctx.api.post(`/v1/members/${org.id}/invite`, { email: 'takeover@example.com', role: 'owner' }, { token })).status).toBe(403);
      expect((await ctx.api.get(`/v1/audit/${org.id}`, { token })).status).toBe(403);
      expect((await ctx.api.get(`/v1/members/${org.id}`, { token })).status).toBe(403);
      expect((await ctx.api.post(`/v1/projects/${org.id}`, { name: 'Nope' }, { token })).status).toBe(403);
      expect((await ctx.api.post(`/v1/projects/${org.id}/${project.slug}/rotate-key`, undefined, { token })).status).toBe(403);
      expect((await ctx.api.delete(`/v1/orgs/${org.id}`, { token })).status).toBe(403);
    }
    expect((await ctx.db.query('SELECT count(*)::int AS n FROM orgs WHERE id = $1', [org.id])).rows[0].n).toBe(1);
  });

  it('refuses project creation to a developer', async () => {
    const dev = await registerUser(ctx.api, 'dev2');
    await addMember(ctx.api, org, owner, dev, 'developer');
    const { token } = await createToken(ctx.api, dev, { access: 'read_write', orgId: org.id });
    expect((await ctx.api.post(`/v1/projects/${org.id}`, { name: 'Nope' }, { token })).status).toBe(403);
  });
});
