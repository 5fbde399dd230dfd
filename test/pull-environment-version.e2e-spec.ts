import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createOrg, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { createProject, secretsPath, type TestProject } from './factories/vault.js';
import { startTestContext, type HostedApp, type TestContext } from './support/test-app.js';
import { until } from './support/until.js';

/**
 * The pull's `X-Secr-Environment-Version` header, when the instance takes it from what its change feed
 * heard (EnvironmentVersions) instead of reading the log with the rows: it follows every write, and a
 * change made while the feed is not listening is never hidden behind a version remembered before it.
 */
describe('the pull’s environment version, as the change feed hears it', () => {
  let ctx: TestContext<HostedApp>;
  let owner: TestUser;
  let org: TestOrg;

  beforeAll(async () => {
    ctx = await startTestContext();
    owner = await registerUser(ctx.api, 'pullversion');
    org = await createOrg(ctx.api, owner, 'Pull version');
  });
  afterAll(() => ctx.close());

  const as = () => ({ session: owner.session });
  /** Whether the instance's change feed (ChangeFeed) holds its LISTEN connection. */
  const listening = () => ctx.instances[0].call<boolean>('ChangeFeed', 'listening');

  async function pull(project: TestProject): Promise<{ version: string; values: Record<string, string> }> {
    const res = await ctx.api.get(secretsPath(org, project, 'development'), as());
    expect(res.status).toBe(200);
    const values = Object.fromEntries(res.body.secrets.map((s: { key: string; value: string }) => [s.key, s.value]));
    return { version: res.headers.get('x-secr-environment-version')!, values };
  }

  async function write(project: TestProject, key: string, value: string): Promise<string> {
    const res = await ctx.api.post(`${secretsPath(org, project, 'development')}/bulk`, { secrets: [{ key, value }] }, as());
    expect(res.status).toBe(200);
    return String(res.body.environmentVersion);
  }

  it('follows each write: never newer than the answer, and the write’s version once the feed heard it', async () => {
    const project = await createProject(ctx.api, owner, org);
    await until('the feed listens', listening);
    expect((await pull(project)).version).toBe('0');
    for (const value of ['1', '2', '3']) {
      const version = await write(project, 'A', value);
      // Until the notification arrives the header may lag behind the write, never run ahead of the answer.
      await until(`the header reaches ${version}`, async () => {
        const seen = await pull(project);
        expect(seen.values).toEqual({ A: value });
        expect(BigInt(seen.version)).toBeLessThanOrEqual(BigInt(version));
        return seen.version === version;
      });
    }
  });

  it('reports a change made while the feed was not listening (nothing it remembered from before is used)', async () => {
    const project = await createProject(ctx.api, owner, org);
    await write(project, 'A', 'before');
    await until('the feed listens', listening);
    const first = await pull(project);
    expect((await pull(project)).version).toBe(first.version); // remembered from here on

    const { rows } = await ctx.db.query(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = 'secr-change-feed' AND datname = current_database()`,
    );
    expect(rows).toEqual([{ ended: true }]);
    await until('the feed notices the lost connection', async () => !(await listening()));
    const version = await write(project, 'A', 'while deaf');
    // Deaf or listening again, the pull reads the version with its rows: the write's own.
    const seen = await pull(project);
    expect(seen).toEqual({ version, values: { A: 'while deaf' } });
    await until('the feed listens again', listening);
    expect(await pull(project)).toEqual({ version, values: { A: 'while deaf' } });
  });
});
