import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createOrg, createToken, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { createProject, type TestProject } from './factories/vault.js';
import { TestMailServer, tokenOf } from './support/mail-server.js';
import { startTestContext, type TestContext } from './support/test-app.js';

/**
 * Issue 11: a scoped token sees nothing beyond its scope. An org-scoped token's /auth/me lists only its
 * org; a token narrowed to environments sees only those environments of a project; a project token
 * sees only tokens within its own scope; account mutations need a session or an unscoped token.
 */
describe('scoped tokens see nothing beyond their scope', () => {
  let smtp: TestMailServer;
  let ctx: TestContext;
  let user: TestUser;
  let second: TestOrg;
  let project: TestProject;
  let other: TestProject;

  beforeAll(async () => {
    smtp = await TestMailServer.start();
    ctx = await startTestContext({ SMTP_URL: smtp.url });
    user = await registerUser(ctx.api, 'scoped');
    second = await createOrg(ctx.api, user, 'Second');
    project = await createProject(ctx.api, user, user.personalOrg);
    other = await createProject(ctx.api, user, user.personalOrg);
  });
  afterAll(async () => {
    await ctx.close();
    await smtp.stop();
  });

  async function tokenFor(scope: Record<string, unknown>): Promise<{ id: string; token: string }> {
    const res = await ctx.api.post('/v1/auth/token', { name: 'scoped', ...scope }, { session: user.session });
    expect(res.status).toBe(201);
    return { id: res.body.id, token: res.body.token };
  }

  it("GET /auth/me with an org-scoped token lists only that org; a session lists all the user's orgs", async () => {
    const scoped = await createToken(ctx.api, user, { access: 'read', orgId: second.id });
    const me = await ctx.api.get('/v1/auth/me', { token: scoped.token });
    expect(me.status).toBe(200);
    expect(me.body.orgs.map((o: { id: string }) => o.id)).toEqual([second.id]);
    const all = await ctx.api.get('/v1/auth/me', { session: user.session });
    expect(all.body.orgs.map((o: { id: string }) => o.id).sort()).toEqual([user.personalOrg.id, second.id].sort());
  });

  it('a token narrowed to environments sees only those environments of the project, in the list and in the project', async () => {
    const narrowed = await tokenFor({ access: 'read', orgId: user.personalOrg.id, projectId: project.id, environments: ['dev', 'staging'] });
    const one = await ctx.api.get(`/v1/projects/${user.personalOrg.id}/${project.slug}`, { token: narrowed.token });
    expect(one.status).toBe(200);
    expect(one.body.environments.map((e: { slug: string }) => e.slug)).toEqual(['development', 'staging']);
    const list = await ctx.api.get(`/v1/projects/${user.personalOrg.id}`, { token: narrowed.token });
    expect(list.body.projects ?? list.body).toEqual([
      expect.objectContaining({
        id: project.id,
        environments: [expect.objectContaining({ slug: 'development' }), expect.objectContaining({ slug: 'staging' })],
      }),
    ]);
    // The whole-org token and the session still see every environment.
    const whole = await ctx.api.get(`/v1/projects/${user.personalOrg.id}/${project.slug}`, { session: user.session });
    expect(whole.body.environments.map((e: { slug: string }) => e.slug)).toEqual(['development', 'staging', 'production']);
  });

  it("a project token lists and revokes only tokens within its own scope, not the org's other tokens", async () => {
    const own = await createProject(ctx.api, user, user.personalOrg);
    const projectToken = await tokenFor({ access: 'read_write', orgId: user.personalOrg.id, projectId: own.id });
    const narrower = await tokenFor({ access: 'read', orgId: user.personalOrg.id, projectId: own.id, environments: ['production'] });
    const orgWide = await tokenFor({ access: 'read', orgId: user.personalOrg.id });
    const otherProject = await tokenFor({ access: 'read', orgId: user.personalOrg.id, projectId: other.id });

    const listed = await ctx.api.get('/v1/auth/tokens', { token: projectToken.token });
    expect(listed.status).toBe(200);
    expect(listed.body.tokens.map((t: { id: string }) => t.id).sort()).toEqual([projectToken.id, narrower.id].sort());
    for (const beyond of [orgWide, otherProject]) {
      expect((await ctx.api.delete(`/v1/auth/tokens/${beyond.id}`, { token: projectToken.token })).status).toBe(404);
      expect((await ctx.api.get('/v1/auth/me', { token: beyond.token })).status).toBe(200);
    }
    // An environment-narrowed token sees only tokens within its environments.
    const seenByNarrower = await ctx.api.get('/v1/auth/tokens', { token: narrower.token });
    expect(seenByNarrower.body.tokens.map((t: { id: string }) => t.id)).toEqual([narrower.id]);
    expect((await ctx.api.delete(`/v1/auth/tokens/${narrower.id}`, { token: projectToken.token })).status).toBe(204);
  });

  it('account mutations (verification mail, new org, accepting an invitation) need a session or an unscoped token', async () => {
    const projectToken = await tokenFor({ access: 'read_write', orgId: user.personalOrg.id, projectId: project.id });
    const orgToken = await tokenFor({ access: 'read_write', orgId: user.personalOrg.id });
    const unscoped = await tokenFor({ access: 'read_write' });
    for (const scoped of [projectToken, orgToken]) {
      const res = await ctx.api.post('/v1/auth/send-verification', undefined, { token: scoped.token });
      expect(res.status).toBe(403);
      expect(res.body.message).toMatch(/session or a token that is not scoped/);
      expect((await ctx.api.post('/v1/orgs', { name: 'Beyond' }, { token: scoped.token })).status).toBe(403);
    }
    expect(smtp.to(user.email).filter((m) => /Confirm/.test(m.subject))).toHaveLength(0);
    expect((await ctx.api.post('/v1/auth/send-verification', undefined, { token: unscoped.token })).status).toBe(204);
    await smtp.next(user.email, /Confirm/);
  });

  it('accepting an invitation needs a session or an unscoped token', async () => {
    const host = await registerUser(ctx.api, 'host');
    const invited = await ctx.api.post(`/v1/members/${host.personalOrg.id}/invite`, { email: user.email, role: 'viewer' }, { session: host.session });
    expect(invited.status).toBe(201);
    const token = tokenOf((await smtp.next(user.email, /^Join /)).links[0]);
    const orgToken = await tokenFor({ access: 'read_write', orgId: user.personalOrg.id });
    expect((await ctx.api.post(`/v1/members/invite/${token}/accept`, undefined, { token: orgToken.token })).status).toBe(403);
    expect((await ctx.api.post(`/v1/members/invite/${token}/accept`, undefined, { session: user.session })).status).toBe(200);
  });
});
