import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTeam, type OrgWithTeam } from './factories/accounts.js';
import { createProject, createVaultToken, seedSecrets, type TestProject } from './factories/vault.js';
import type { Credentials } from './support/http.js';
import { startTestContext, type TestContext } from './support/test-app.js';

/** Issue 19, point 1: environment diff, and what `promote --dry-run` says per key. */
describe('environment diff', () => {
  let ctx: TestContext;
  let team: OrgWithTeam;
  let as: Credentials;

  beforeAll(async () => {
    ctx = await startTestContext();
    team = await createTeam(ctx.api);
    as = { session: team.owner.session };
  });
  afterAll(() => ctx.close());

  /** A project whose staging and production differ in every way a diff can tell. */
  async function drifted(): Promise<TestProject> {
    const p = await createProject(ctx.api, team.owner, team.org);
    await seedSecrets(ctx.api, as, team.org, p, 'staging', { SAME: 'same-value', CHANGED: 'staging-secret', ONLY_STAGING: 's' });
    await seedSecrets(ctx.api, as, team.org, p, 'production', { SAME: 'same-value', CHANGED: 'production-secret', ONLY_PROD: 'p' });
    return p;
  }
  const diffPath = (p: TestProject, query: string) => `/v1/secrets/${team.org.slug}/${p.slug}/diff?${query}`;

  async function auditRows(p: TestProject, action: string) {
    const { rows } = await ctx.db.query(`SELECT metadata FROM audit_events WHERE metadata->>'projectId' = $1::text AND action = $2 ORDER BY id`, [
      p.id,
      action,
    ]);
    return rows.map((r) => r.metadata as Record<string, unknown>);
  }

  it('lists each key as only in source, only in target, changed or identical, without values, and audits a diff (not a read)', async () => {
    const p = await drifted();
    const res = await ctx.api.get(diffPath(p, 'from=staging&to=prod'), as);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({
      from: 'staging',
      to: 'production',
      differ: true,
      counts: { onlyInSource: 1, onlyInTarget: 1, changed: 1, identical: 1 },
      keys: [
        { key: 'CHANGED', status: 'changed', sourceVersion: 1, targetVersion: 1 },
        { key: 'ONLY_PROD', status: 'only_in_target', targetVersion: 1 },
        { key: 'ONLY_STAGING', status: 'only_in_source', sourceVersion: 1 },
        { key: 'SAME', status: 'identical', sourceVersion: 1, targetVersion: 1 },
      ],
    });
    expect(res.text).not.toContain('secret');
    expect(await auditRows(p, 'secret.read')).toEqual([]);
    expect(await auditRows(p, 'secret.diff')).toEqual([
      expect.objectContaining({ fromEnvironment: 'staging', toEnvironment: 'production', onlyInSource: 1, onlyInTarget: 1, changed: 1, identical: 1 }),
    ]);
  });

  it('compares only the keys asked for; environments that match answer differ: false', async () => {
    const p = await drifted();
    const res = await ctx.api.get(diffPath(p, 'from=staging&to=production&keys=SAME,ONLY_PROD'), as);
    expect(res.body.keys.map((k: { key: string }) => k.key)).toEqual(['ONLY_PROD', 'SAME']);
    const same = await ctx.api.get(diffPath(p, 'from=staging&to=production&keys=SAME'), as);
    expect(same.body).toMatchObject({ differ: false, counts: { onlyInSource: 0, onlyInTarget: 0, changed: 0, identical: 1 } });
  });

  it('with showValues returns both values and audits a read of each environment, naming the keys', async () => {
    const p = await drifted();
    const res = await ctx.api.get(diffPath(p, 'from=staging&to=production&showValues=true&keys=CHANGED,ONLY_STAGING'), as);
    expect(res.status).toBe(200);
    expect(res.body.keys).toEqual([
      { key: 'CHANGED', status: 'changed', sourceVersion: 1, targetVersion: 1, sourceValue: 'staging-secret', targetValue: 'production-secret' },
      { key: 'ONLY_STAGING', status: 'only_in_source', sourceVersion: 1, sourceValue: 's' },
    ]);
    const reads = await auditRows(p, 'secret.read');
    expect(reads).toHaveLength(2);
    expect(reads).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ environment: 'staging', keys: ['CHANGED', 'ONLY_STAGING'], via: 'diff' }),
        expect.objectContaining({ environment: 'production', keys: ['CHANGED'], via: 'diff' }),
      ]),
    );
    expect(JSON.stringify(reads)).not.toContain('secret-');
  });

  it('needs read access to both tiers: a developer cannot diff against production, a viewer not against staging', async () => {
    const p = await drifted();
    for (const [who, query] of [
      [team.developer, 'from=staging&to=production'],
      [team.developer, 'from=production&to=staging&showValues=true'],
      [team.viewer, 'from=development&to=staging'],
    ] as const) {
      const res = await ctx.api.get(diffPath(p, query), { session: who.session });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
    }
    expect((await ctx.api.get(diffPath(p, 'from=development&to=staging'), { session: team.developer.session })).status).toBe(200);
    // A token narrowed to some environments reaches no other.
    const narrowed = await createVaultToken(ctx.api, team.owner, { access: 'read', orgId: team.org.id, projectId: p.id, environments: ['staging'] });
    expect((await ctx.api.get(diffPath(p, 'from=staging&to=production'), { token: narrowed.token })).status).toBe(403);
  });

  it('refuses the same environment twice (400), an unknown environment (404) and a missing or malformed parameter (400)', async () => {
    const p = await drifted();
    expect((await ctx.api.get(diffPath(p, 'from=production&to=prod'), as)).status).toBe(400);
    const unknown = await ctx.api.get(diffPath(p, 'from=staging&to=qa'), as);
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain('qa');
    for (const query of ['from=staging', 'from=staging&to=production&showValues=yes', 'from=staging&to=production&keys=a-b', 'from=Staging&to=production']) {
      const res = await ctx.api.get(diffPath(p, query), as);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
    }
  });

  it('reserves the environment name diff (its pull would be the diff route)', async () => {
    const p = await drifted();
    const res = await ctx.api.post(`/v1/projects/${team.org.id}/${p.slug}/environments`, { slug: 'diff' }, as);
    expect(res.status).toBe(409);
    expect(res.body.message).toContain('reserved');
  });

  describe('promotion compares values', () => {
    const promote = (p: TestProject, body: Record<string, unknown>) => ctx.api.post(`/v1/secrets/${team.org.slug}/${p.slug}/promote`, body, as);

    it('a dry run says per key: create (new), overwrite (changed) or skip (identical)', async () => {
      const p = await drifted();
      const res = await promote(p, { fromEnv: 'staging', toEnv: 'production', overwrite: true, dryRun: true });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ promoted: 2, created: 1, updated: 1, skipped: 1, dryRun: true });
      expect(res.body.results).toEqual([
        { key: 'CHANGED', action: 'updated', difference: 'changed' },
        { key: 'ONLY_STAGING', action: 'created', difference: 'new' },
        { key: 'SAME', action: 'skipped', difference: 'identical' },
      ]);
      const without = await promote(p, { fromEnv: 'staging', toEnv: 'production', dryRun: true });
      expect(without.body.results).toEqual([
        { key: 'CHANGED', action: 'skipped', difference: 'changed' },
        { key: 'ONLY_STAGING', action: 'created', difference: 'new' },
        { key: 'SAME', action: 'skipped', difference: 'identical' },
      ]);
    });

    it('an overwriting promotion leaves identical keys alone (no new version)', async () => {
      const p = await drifted();
      const res = await promote(p, { fromEnv: 'staging', toEnv: 'production', overwrite: true });
      expect(res.body).toMatchObject({ promoted: 2, created: 1, updated: 1, skipped: 1, dryRun: false });
      const keys = (await ctx.api.get(`/v1/secrets/${team.org.slug}/${p.slug}/production/keys`, as)).body.keys;
      expect(keys.map((k: { key: string; version: number }) => [k.key, k.version])).toEqual([
        ['CHANGED', 2],
        ['ONLY_PROD', 1],
        ['ONLY_STAGING', 1],
        ['SAME', 1],
      ]);
      const after = await ctx.api.get(diffPath(p, 'from=staging&to=production'), as);
      expect(after.body.counts).toEqual({ onlyInSource: 0, onlyInTarget: 1, changed: 0, identical: 3 });
    });
  });
});
