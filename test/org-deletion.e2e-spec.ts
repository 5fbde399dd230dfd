import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createOrg, createToken, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { createProject, secretsPath, seedSecrets, type TestProject } from './factories/vault.js';
import { startTestContext, type HostedApp, type TestContext } from './support/test-app.js';
import { until } from './support/until.js';

const BATCH = 7;

/**
 * Issue 21: deleting an org does not hold one transaction over its data. The org is gone for everyone
 * at once; a job deletes its data ORG_PURGE_BATCH_SIZE rows a statement, and a purge cut short by a
 * restart is finished by the next instance to start, even when its job was lost.
 */
describe('org deletion in batches', () => {
  let ctx: TestContext<HostedApp>;
  let owner: TestUser;
  beforeAll(async () => {
    // The first instance purges nothing by itself (ORG_PURGE_CONCURRENCY=0): the test drives its steps.
    ctx = await startTestContext({ ORG_PURGE_BATCH_SIZE: String(BATCH), ORG_PURGE_CONCURRENCY: '0' });
    owner = await registerUser(ctx.api, 'deleting-owner');
  });
  afterAll(() => ctx.close());
  const as = () => ({ session: owner.session });

  const values = (n: number, round: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`KEY_${i}`, `value-${round}-${i}`]));

  /** An org with two projects, each with 12 keys written twice (24 stored versions), and 30 more audit rows. */
  async function populated(name: string): Promise<{ org: TestOrg; projects: TestProject[] }> {
    const org = await createOrg(ctx.api, owner, name);
    const projects = [await createProject(ctx.api, owner, org), await createProject(ctx.api, owner, org)];
    for (const project of projects) {
      for (const round of [1, 2]) await seedSecrets(ctx.api, as(), org, project, 'development', values(12, round));
    }
    await ctx.db.query(
      `INSERT INTO audit_events (action, org_id, metadata) SELECT 'test.event', $1, jsonb_build_object('n', g) FROM generate_series(1, 30) g`,
      [org.id],
    );
    return { org, projects };
  }

  async function counts(orgId: string) {
    const { rows } = await ctx.db.query(
      `SELECT (SELECT count(*) FROM orgs WHERE id = $1)::int AS orgs,
              (SELECT count(*) FROM projects WHERE org_id = $1)::int AS projects,
              (SELECT count(*) FROM secrets s JOIN projects p ON p.id = s.project_id WHERE p.org_id = $1)::int AS secrets,
              (SELECT count(*) FROM secret_versions v JOIN projects p ON p.id = v.project_id WHERE p.org_id = $1)::int AS versions,
              (SELECT count(*) FROM secret_changes c JOIN environments e ON e.id = c.environment_id JOIN projects p ON p.id = e.project_id
                WHERE p.org_id = $1)::int AS changes,
              (SELECT count(*) FROM audit_events WHERE org_id = $1)::int AS audit`,
      [orgId],
    );
    return rows[0] as Record<'orgs' | 'projects' | 'secrets' | 'versions' | 'changes' | 'audit', number>;
  }

  it('purges a deleted org through the job the deletion enqueues, on an instance that runs purges', async () => {
    const worker = await ctx.startInstance({ ORG_PURGE_BATCH_SIZE: String(BATCH), ORG_PURGE_CONCURRENCY: '1' });
    const { org } = await populated('Purged by its job');
    // Deleted through the purging instance: its worker is woken when the deletion commits.
    expect((await worker.http.delete(`/v1/orgs/${org.id}`, as())).status).toBe(204);
    await until('the org purged', async () => (await counts(org.id)).orgs === 0, 60_000);
    expect(await counts(org.id)).toEqual({ orgs: 0, projects: 0, secrets: 0, versions: 0, changes: 0, audit: 0 });
    // The next test drives a purge by hand: no instance may purge meanwhile.
    ctx.instances.splice(ctx.instances.indexOf(worker), 1);
    await worker.close();
  });

  it('hides the org at once, deletes its data in bounded batches, and a restarted instance finishes the purge even without its job', async () => {
    const { org, projects } = await populated('Doomed');
    const kept = await populated('Kept');
    const keptBefore = await counts(kept.org.id);
    const scoped = await createToken(ctx.api, owner, { access: 'read', orgId: org.id });
    const before = await counts(org.id);
    expect(before).toMatchObject({ orgs: 1, projects: 2, secrets: 24, versions: 48 });

    expect((await ctx.api.delete(`/v1/orgs/${org.id}`, as())).status).toBe(204);

    // Gone for everyone at once: no member reaches it, its tokens stop working, its slug is free again.
    expect((await ctx.api.get(`/v1/projects/${org.id}`, as())).status).toBe(403);
    expect((await ctx.api.get(secretsPath(org, projects[0], 'development'), as())).status).toBe(403);
    expect((await ctx.api.get('/v1/auth/me', { token: scoped.token })).status).toBe(401);
    const me = await ctx.api.get('/v1/auth/me', as());
    expect(me.body.orgs.map((o: { id: string }) => o.id)).not.toContain(org.id);
    const again = await ctx.api.post('/v1/orgs', { name: 'Doomed again', slug: org.slug }, as());
    expect(again.status).toBe(201);
    expect((await ctx.api.delete(`/v1/orgs/${org.id}`, as())).status).toBe(403);
    // …while its data is still there: the request deleted nothing of it.
    expect(await counts(org.id)).toEqual(before);

    // A few steps on this instance: each deletes at most one batch, biggest tables first.
    for (let i = 0; i < 3; i++) {
      const step = await ctx.instances[0].call<{ table: string; done: boolean; deleted: number }>('OrgPurge', 'step', org.id);
      expect(step).toMatchObject({ table: 'secret_versions', done: false });
      expect(step.deleted).toBeGreaterThan(0);
      expect(step.deleted).toBeLessThanOrEqual(BATCH);
    }
    const midway = await counts(org.id);
    expect(midway.versions).toBe(before.versions - 3 * BATCH);
    expect(midway).toMatchObject({ orgs: 1, projects: 2, secrets: 24, audit: before.audit });

    // The instance stops mid-purge and the queued job is lost too; the next instance to start finds the
    // org marked deleted and finishes it.
    const [stopped] = ctx.instances.splice(0, 1);
    await stopped.close();
    await ctx.db.query(`DELETE FROM pgboss.job WHERE name = 'org-purge'`);
    const next: HostedApp = await ctx.startInstance({ ORG_PURGE_BATCH_SIZE: String(BATCH), ORG_PURGE_CONCURRENCY: '1' });
    await until('the org purged', async () => (await counts(org.id)).orgs === 0, 60_000);
    expect(await counts(org.id)).toEqual({ orgs: 0, projects: 0, secrets: 0, versions: 0, changes: 0, audit: 0 });

    // Nothing of another org was touched, and the org.deleted row (orgless) remains.
    expect(await counts(kept.org.id)).toEqual(keptBefore);
    const pull = await next.http.get(secretsPath(kept.org, kept.projects[0], 'development'), as());
    expect(pull.status).toBe(200);
    expect(pull.body.secrets).toHaveLength(12);
    const { rows } = await ctx.db.query(`SELECT org_id FROM audit_events WHERE action = 'org.deleted' AND metadata->>'orgId' = $1`, [org.id]);
    expect(rows).toEqual([{ org_id: null }]);
  }, 120_000);
});
