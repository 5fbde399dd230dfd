import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createOrg, registerUser, type TestOrg, type TestUser } from '../factories/accounts.js';
import { createProject, createVaultToken, type TestProject } from '../factories/vault.js';
import { startTestContext, type TestContext } from '../support/test-app.js';

/**
 * README (Tokens): "A token can mint tokens no broader … than itself" — for tokens narrowed to a project
 * or to environments, not only org-scoped ones (auth.e2e-spec.ts): every wider scope is refused with 403
 * and mints nothing; the same or a narrower scope is minted.
 */
describe('a narrowed token mints no token wider than itself', () => {
  let ctx: TestContext;
  let owner: TestUser;
  let org: TestOrg;
  let project: TestProject;
  let other: TestProject;
  beforeAll(async () => {
    ctx = await startTestContext();
    owner = await registerUser(ctx.api, 'minter');
    org = await createOrg(ctx.api, owner, 'Mint');
    [project, other] = await Promise.all([createProject(ctx.api, owner, org), createProject(ctx.api, owner, org)]);
  });
  afterAll(() => ctx.close());

  const tokensOf = async () => (await ctx.db.query('SELECT count(*)::int AS n FROM api_tokens WHERE user_id = $1', [owner.id])).rows[0].n as number;
  async function mintAll(parent: string, scopes: Array<Record<string, unknown>>): Promise<number[]> {
    return Promise.all(
      scopes.map(async (scope) => (await ctx.api.post('/v1/auth/token', { name: 'child', access: 'read', ...scope }, { token: parent })).status),
    );
  }

  it('a project token: refuses no org, no project, or another project; mints for its project and some of its environments', async () => {
    const parent = await createVaultToken(ctx.api, owner, { access: 'read_write', orgId: org.id, projectId: project.id });
    const before = await tokensOf();
    const wider = await mintAll(parent.token, [{}, { orgId: org.id }, { orgId: org.id, projectId: other.id }]);
    expect(wider).toEqual([403, 403, 403]);
    expect(await tokensOf()).toBe(before);
    const narrower = await mintAll(parent.token, [
      { orgId: org.id, projectId: project.id },
      { orgId: org.id, projectId: project.id, environments: ['development'] },
    ]);
    expect(narrower).toEqual([201, 201]);
  });

  it('an environment token: refuses all environments, more environments or others; mints for the same or fewer', async () => {
    const parent = await createVaultToken(ctx.api, owner, {
      access: 'read_write',
      orgId: org.id,
      projectId: project.id,
      environments: ['development', 'staging'],
    });
    const before = await tokensOf();
    const wider = await mintAll(parent.token, [
      { orgId: org.id, projectId: project.id },
      { orgId: org.id, projectId: project.id, environments: ['development', 'staging', 'production'] },
      { orgId: org.id, projectId: project.id, environments: ['production'] },
      { orgId: org.id, projectId: other.id, environments: ['development'] },
      {},
    ]);
    expect(wider).toEqual([403, 403, 403, 403, 403]);
    expect(await tokensOf()).toBe(before);
    const narrower = await mintAll(parent.token, [
      { orgId: org.id, projectId: project.id, environments: ['staging', 'development'] },
      { orgId: org.id, projectId: project.id, environments: ['dev'] },
    ]);
    expect(narrower).toEqual([201, 201]);
  });

  it('a read token: refuses to mint any token, read_write or read, and mints nothing', async () => {
    const parent = await createVaultToken(ctx.api, owner, { access: 'read', orgId: org.id, projectId: project.id });
    const before = await tokensOf();
    const statuses = await Promise.all(
      ['read_write', 'read'].map(
        async (access) => (await ctx.api.post('/v1/auth/token', { name: 'c', access, orgId: org.id, projectId: project.id }, { token: parent.token })).status,
      ),
    );
    expect(statuses).toEqual([403, 403]);
    expect(await tokensOf()).toBe(before);
  });
});
