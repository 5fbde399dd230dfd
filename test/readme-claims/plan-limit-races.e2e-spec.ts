import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createOrg, registerUser, type TestOrg, type TestUser } from '../factories/accounts.js';
import { createProject, secretsPath } from '../factories/vault.js';
import type { HttpClient, Response } from '../support/http.js';
import { startTestContext, type TestContext } from '../support/test-app.js';

/**
 * README (Plans and limits): a limit holds when creates race, whichever instance each reaches — for every
 * limited resource, not only projects and single secrets (plans.e2e-spec.ts): environments, members
 * (invitations), tokens, webhooks and the new keys of bulk imports. Each test fires more creates than
 * there are free slots at once, alternating between two app instances on one database.
 */
describe('plan limits under concurrent creates, across two instances', () => {
  let ctx: TestContext;
  let instances: HttpClient[];
  let owner: TestUser;
  beforeAll(async () => {
    const env = { DEFAULT_PLAN: 'free', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_CONCURRENCY: '0' };
    ctx = await startTestContext(env);
    instances = [ctx.api, (await ctx.startInstance(env)).http];
    owner = await registerUser(ctx.api, 'racer');
  });
  afterAll(() => ctx.close());
  const as = () => ({ session: owner.session });
  const override = (orgId: string, limits: Record<string, number>) =>
    ctx.db.query('UPDATE orgs SET limit_overrides = $2 WHERE id = $1', [orgId, JSON.stringify(limits)]);
  /** `count` requests at once, alternating instances; the sorted statuses. */
  async function race(count: number, send: (api: HttpClient, i: number) => Promise<Response>): Promise<number[]> {
    const results = await Promise.all(Array.from({ length: count }, (_, i) => send(instances[i % 2], i)));
    for (const res of results.filter((r) => r.status === 403)) expect(res.body.code).toBe('plan_limit_exceeded');
    return results.map((r) => r.status).sort();
  }
  const count = async (sql: string, param: string) => (await ctx.db.query(sql, [param])).rows[0].n as number;

  it('environmentsPerProject: exactly the free slots are created when environment creates race', async () => {
    const org = await createOrg(ctx.api, owner, 'Envs');
    await override(org.id, { environmentsPerProject: 5 }); // 3 defaults: 2 free
    const project = await createProject(ctx.api, owner, org);
    const statuses = await race(6, (api, i) => api.post(`/v1/projects/${org.id}/${project.slug}/environments`, { slug: `qa-${i}` }, as()));
    expect(statuses).toEqual([201, 201, 403, 403, 403, 403]);
    expect(await count('SELECT count(*)::int AS n FROM environments WHERE project_id = $1', project.id)).toBe(5);
  });

  it('membersPerOrg: exactly the free slots are invited when invitations race', async () => {
    const org = await createOrg(ctx.api, owner, 'Members');
    await override(org.id, { membersPerOrg: 3 }); // the owner: 2 free
    const statuses = await race(6, (api, i) =>
      api.post(`/v1/members/${org.id}/invite`, { email: `race-${i}-${randomBytes(3).toString('hex')}@example.com`, role: 'viewer' }, as()),
    );
    expect(statuses).toEqual([201, 201, 403, 403, 403, 403]);
    const members = await count('SELECT count(*)::int AS n FROM memberships WHERE org_id = $1', org.id);
    const pending = await count('SELECT count(*)::int AS n FROM org_invites WHERE org_id = $1', org.id);
    expect(members + pending).toBe(3);
  });

  it('tokensPerUser: exactly the free slots are minted when token creates race', async () => {
    const user = await registerUser(ctx.api, 'minter');
    await override(user.personalOrg.id, { tokensPerUser: 3 });
    const statuses = await race(6, (api, i) => api.post('/v1/auth/token', { name: `t${i}`, access: 'read' }, { session: user.session }));
    expect(statuses).toEqual([201, 201, 201, 403, 403, 403]);
    expect(await count('SELECT count(*)::int AS n FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL', user.id)).toBe(3);
  });

  it('webhooksPerOrg: exactly the free slots are created when webhook creates race', async () => {
    const org: TestOrg = await createOrg(ctx.api, owner, 'Hooks');
    await override(org.id, { webhooksPerOrg: 2 });
    const statuses = await race(6, (api, i) => api.post(`/v1/webhooks/${org.id}`, { url: `http://127.0.0.1:9/hook-${i}`, events: ['secret.created'] }, as()));
    expect(statuses).toEqual([201, 201, 403, 403, 403, 403]);
    expect(await count('SELECT count(*)::int AS n FROM webhooks WHERE org_id = $1', org.id)).toBe(2);
  });

  it('secretsPerEnvironment: bulk imports of new keys that race never take an environment past its limit', async () => {
    const org = await createOrg(ctx.api, owner, 'Bulk');
    await override(org.id, { secretsPerEnvironment: 5 });
    const project = await createProject(ctx.api, owner, org);
    // Each import adds 2 keys: 2 of the 5 imports fit.
    const statuses = await race(5, (api, i) =>
      api.post(
        `${secretsPath(org, project, 'development')}/bulk`,
        {
          secrets: [
            { key: `A_${i}`, value: 'v' },
            { key: `B_${i}`, value: 'v' },
          ],
        },
        as(),
      ),
    );
    expect(statuses).toEqual([200, 200, 403, 403, 403]);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM secrets s JOIN environments e ON e.id = s.environment_id WHERE e.project_id = $1 AND e.slug = 'development'`,
        project.id,
      ),
    ).toBe(4);
  });
});
