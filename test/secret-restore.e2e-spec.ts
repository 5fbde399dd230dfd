import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTeam, type OrgWithTeam } from './factories/accounts.js';
import { createProject, secretsPath, seedSecrets, setSecret, type TestProject } from './factories/vault.js';
import { createWebhook } from './factories/webhooks.js';
import type { Credentials } from './support/http.js';
import { startTestContext, type TestContext } from './support/test-app.js';

/** Issue 19, point 5: point-in-time restore of an environment. */
describe('point-in-time restore', () => {
  let ctx: TestContext;
  let team: OrgWithTeam;
  let as: Credentials;

  beforeAll(async () => {
    ctx = await startTestContext({ WEBHOOK_CONCURRENCY: '0', WEBHOOK_ALLOW_PRIVATE: 'true' });
    team = await createTeam(ctx.api);
    as = { session: team.owner.session };
  });
  afterAll(() => ctx.close());

  const path = (p: TestProject, env: string) => secretsPath(team.org, p, env);
  /** An instant after every write committed so far (the database's clock, which stamps the writes). */
  async function instant(): Promise<string> {
    const { rows } = await ctx.db.query(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t`);
    return rows[0].t;
  }
  async function values(p: TestProject, env: string): Promise<Record<string, string>> {
    const res = await ctx.api.get(path(p, env), as);
    return Object.fromEntries(res.body.secrets.map((s: { key: string; value: string }) => [s.key, s.value]));
  }
  async function restore(p: TestProject, env: string, body: Record<string, unknown>, credentials: Credentials = as) {
    return ctx.api.post(`${path(p, env)}/restore`, body, credentials);
  }

  /** A project whose `env` had A=1, B=2, C=3 at the instant returned; since then A changed, B was deleted, D created. */
  async function drifted(env = 'staging'): Promise<{ p: TestProject; at: string; webhookId: string }> {
    const p = await createProject(ctx.api, team.owner, team.org);
    const hook = await createWebhook(ctx.api, team.owner, team.org, { url: 'http://127.0.0.1:9/hook', project: p.slug, events: ['secret.restored'] });
    await seedSecrets(ctx.api, as, team.org, p, env, { A: '1', B: '2', C: '3' });
    const at = await instant();
    await setSecret(ctx.api, as, team.org, p, env, { key: 'A', value: '10', description: 'changed later' });
    expect((await ctx.api.delete(`${path(p, env)}/B`, as)).status).toBe(200);
    await setSecret(ctx.api, as, team.org, p, env, { key: 'D', value: '4' });
    return { p, at, webhookId: hook.id };
  }

  async function footprint(p: TestProject, webhookId: string) {
    const { rows } = await ctx.db.query(
      `SELECT (SELECT count(*)::int FROM secret_versions WHERE project_id = $1) AS versions,
              (SELECT count(*)::int FROM pgboss.job WHERE data->>'webhookId' = $2) AS events,
              (SELECT count(*)::int FROM audit_events WHERE metadata->>'projectId' = $1::text AND action = 'secret.restored') AS audits`,
      [p.id, webhookId],
    );
    return rows[0] as { versions: number; events: number; audits: number };
  }

  it('a dry run shows the plan per key (restored, revived, deleted, unchanged) and changes nothing', async () => {
    const { p, at, webhookId } = await drifted();
    const before = await footprint(p, webhookId);
    const res = await restore(p, 'staging', { to: at, dryRun: true });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      to: new Date(at).toISOString(),
      dryRun: true,
      restored: 1,
      revived: 1,
      deleted: 1,
      unchanged: 1,
      results: [
        { key: 'A', action: 'restored', fromVersion: 1 },
        { key: 'B', action: 'revived', fromVersion: 1 },
        { key: 'C', action: 'unchanged', fromVersion: 1 },
        { key: 'D', action: 'deleted' },
      ],
    });
    expect(await footprint(p, webhookId)).toEqual(before);
    expect(await values(p, 'staging')).toEqual({ A: '10', C: '3', D: '4' });
  });

  it('restores in one write: old values as new versions, deleted keys back, new keys soft-deleted; one audit row, one webhook event', async () => {
    const { p, at, webhookId } = await drifted();
    const before = await footprint(p, webhookId);
    const res = await restore(p, 'staging', { to: at });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dryRun: false, restored: 1, revived: 1, deleted: 1, unchanged: 1 });
    expect(res.body.results).toEqual([
      { key: 'A', action: 'restored', fromVersion: 1, version: 3 },
      { key: 'B', action: 'revived', fromVersion: 1, version: 2 },
      { key: 'C', action: 'unchanged', fromVersion: 1 },
      { key: 'D', action: 'deleted' },
    ]);
    expect(await values(p, 'staging')).toEqual({ A: '1', B: '2', C: '3' });
    const history = (await ctx.api.get(`${path(p, 'staging')}/versions/A`, as)).body;
    expect(history.versions[0]).toMatchObject({ version: 3, value: '1', description: null, source: 'restore' });
    expect(await footprint(p, webhookId)).toEqual({ versions: before.versions + 2, events: before.events + 1, audits: 1 });
    const { rows } = await ctx.db.query(`SELECT metadata FROM audit_events WHERE metadata->>'projectId' = $1::text AND action = 'secret.restored'`, [p.id]);
    expect(rows[0].metadata).toMatchObject({ environment: 'staging', restored: ['A'], revived: ['B'], deleted: ['D'], unchanged: 1 });
    expect(JSON.stringify(rows[0].metadata)).not.toContain('"10"');

    // Restoring to the same instant again changes nothing, and says so without an audit row or event.
    const again = await restore(p, 'staging', { to: at });
    expect(again.body).toMatchObject({ restored: 0, revived: 0, deleted: 0, unchanged: 3 });
    expect(await footprint(p, webhookId)).toEqual({ versions: before.versions + 2, events: before.events + 1, audits: 1 });
  });

  it('restores only the keys named, and answers 404 naming a key that was set neither then nor now', async () => {
    const { p, at } = await drifted();
    const res = await restore(p, 'staging', { to: at, keys: ['B'] });
    expect(res.body).toMatchObject({ restored: 0, revived: 1, deleted: 0, unchanged: 0 });
    expect(await values(p, 'staging')).toEqual({ A: '10', B: '2', C: '3', D: '4' });
    const unknown = await restore(p, 'staging', { to: at, keys: ['A', 'NEVER'] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain('NEVER');
    expect(await values(p, 'staging')).toEqual({ A: '10', B: '2', C: '3', D: '4' });
  });

  it('a key deleted at that instant (and set again since) is deleted by the restore', async () => {
    const p = await createProject(ctx.api, team.owner, team.org);
    await seedSecrets(ctx.api, as, team.org, p, 'development', { K: 'first', KEEP: 'x' });
    expect((await ctx.api.delete(`${path(p, 'development')}/K`, as)).status).toBe(200);
    const at = await instant();
    await setSecret(ctx.api, as, team.org, p, 'development', { key: 'K', value: 'second' });
    const res = await restore(p, 'development', { to: at });
    expect(res.body.results).toEqual([
      { key: 'K', action: 'deleted' },
      { key: 'KEEP', action: 'unchanged', fromVersion: 1 },
    ]);
    expect(await values(p, 'development')).toEqual({ KEEP: 'x' });
  });

  it('production tier: owner and admin only; other tiers: whoever may read and write them', async () => {
    const { p, at } = await drifted('production');
    for (const who of [team.developer, team.viewer]) {
      const res = await restore(p, 'production', { to: at, dryRun: true }, { session: who.session });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
    }
    expect((await restore(p, 'production', { to: at }, { session: team.admin.session })).status).toBe(200);
    const staging = await drifted('staging');
    expect((await restore(staging.p, 'staging', { to: staging.at }, { session: team.viewer.session })).status).toBe(403);
    expect((await restore(staging.p, 'staging', { to: staging.at }, { session: team.developer.session })).status).toBe(200);
  });

  it('refuses an instant in the future or not in ISO 8601, and unknown fields, with 400 and no change', async () => {
    const { p } = await drifted();
    const future = new Date(Date.now() + 3600_000).toISOString();
    for (const body of [{ to: future }, { to: 'yesterday' }, { to: '2026-13-01T00:00:00Z' }, { to: '2026-11-30T12:00:00Z', force: true }, {}]) {
      const res = await restore(p, 'staging', body);
      expect(res.status).toBe(400);
      expect(['bad_request', 'validation_failed']).toContain(res.body.code);
    }
    expect(await values(p, 'staging')).toEqual({ A: '10', C: '3', D: '4' });
  });
});
