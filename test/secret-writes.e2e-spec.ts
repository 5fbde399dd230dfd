import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTeam, type OrgWithTeam } from './factories/accounts.js';
import { createProject, secretsPath, seedSecrets, setSecret, type TestProject } from './factories/vault.js';
import { createWebhook } from './factories/webhooks.js';
import type { Credentials } from './support/http.js';
import { startTestContext, type TestContext } from './support/test-app.js';

/** Issue 19: no-op writes are no-ops; check-and-set (`If-Match` / `expectedVersion`, `ifEnvironmentVersion`). */
describe('secret writes: no-ops and check-and-set', () => {
  let ctx: TestContext;
  let team: OrgWithTeam;
  let as: Credentials;

  beforeAll(async () => {
    // No instance sends deliveries: a webhook event is a queued job, counted below.
    ctx = await startTestContext({ WEBHOOK_CONCURRENCY: '0', WEBHOOK_ALLOW_PRIVATE: 'true' });
    team = await createTeam(ctx.api);
    as = { session: team.owner.session };
  });
  afterAll(() => ctx.close());

  /** A project with a webhook on its secret events. */
  async function setup(): Promise<{ p: TestProject; webhookId: string }> {
    const p = await createProject(ctx.api, team.owner, team.org);
    const hook = await createWebhook(ctx.api, team.owner, team.org, { url: 'http://127.0.0.1:9/secr', project: p.slug });
    return { p, webhookId: hook.id };
  }
  const path = (p: TestProject, env = 'development') => secretsPath(team.org, p, env);

  /** Versions stored, webhook jobs queued and audit rows of secret writes, for one project. */
  async function footprint(p: TestProject, webhookId: string) {
    const { rows } = await ctx.db.query(
      `SELECT (SELECT count(*)::int FROM secret_versions WHERE project_id = $1) AS versions,
              (SELECT count(*)::int FROM pgboss.job WHERE data->>'webhookId' = $2) AS events,
              (SELECT count(*)::int FROM audit_events WHERE metadata->>'projectId' = $1::text AND action LIKE 'secret.%' AND action <> 'secret.read') AS audits`,
      [p.id, webhookId],
    );
    return rows[0] as { versions: number; events: number; audits: number };
  }

  describe('no-op writes', () => {
    it('setting a key to its current value and description writes no version, no webhook event and no audit row, and answers unchanged', async () => {
      const { p, webhookId } = await setup();
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'API_KEY', value: 'one', description: 'd' });
      const before = await footprint(p, webhookId);
      expect(before).toEqual({ versions: 1, events: 1, audits: 1 });

      for (const body of [
        { key: 'API_KEY', value: 'one' },
        { key: 'API_KEY', value: 'one', description: 'd' },
      ]) {
        const res = await ctx.api.put(path(p), body, as);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ key: 'API_KEY', version: 1, created: false, unchanged: true });
      }
      expect(await footprint(p, webhookId)).toEqual(before);

      // A new description, or a new value, is a change.
      const described = await ctx.api.put(path(p), { key: 'API_KEY', value: 'one', description: 'new' }, as);
      expect(described.body).toEqual({ key: 'API_KEY', version: 2, created: false, unchanged: false });
      const changed = await ctx.api.put(path(p), { key: 'API_KEY', value: 'two' }, as);
      expect(changed.body).toEqual({ key: 'API_KEY', version: 3, created: false, unchanged: false });
      expect(await footprint(p, webhookId)).toEqual({ versions: 3, events: 3, audits: 3 });
    });

    it('setting a deleted key to its last value revives it (a change, not a no-op)', async () => {
      const { p } = await setup();
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'K', value: 'v' });
      expect((await ctx.api.delete(`${path(p)}/K`, as)).status).toBe(200);
      const res = await ctx.api.put(path(p), { key: 'K', value: 'v' }, as);
      expect(res.body).toEqual({ key: 'K', version: 2, created: true, unchanged: false });
    });

    it('a bulk import reports unchanged keys; importing the same set twice is idempotent (no version, event or audit row)', async () => {
      const { p, webhookId } = await setup();
      const secrets = [
        { key: 'A', value: '1' },
        { key: 'B', value: '2' },
      ];
      const first = await ctx.api.post(`${path(p)}/bulk`, { secrets }, as);
      expect(first.body).toMatchObject({ created: 2, updated: 0, unchanged: 0, total: 2 });
      const before = await footprint(p, webhookId);

      const again = await ctx.api.post(`${path(p)}/bulk`, { secrets }, as);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ created: 0, updated: 0, unchanged: 2, total: 2, environmentVersion: first.body.environmentVersion });
      expect(await footprint(p, webhookId)).toEqual(before);

      const mixed = await ctx.api.post(
        `${path(p)}/bulk`,
        {
          secrets: [
            { key: 'A', value: '1' },
            { key: 'B', value: 'changed' },
            { key: 'C', value: '3' },
          ],
        },
        as,
      );
      expect(mixed.body).toMatchObject({ created: 1, updated: 1, unchanged: 1, total: 3 });
      const { rows } = await ctx.db.query(
        `SELECT metadata FROM audit_events WHERE metadata->>'projectId' = $1::text AND action = 'secret.bulk_set' ORDER BY id DESC LIMIT 1`,
        [p.id],
      );
      expect(rows[0].metadata).toMatchObject({ created: 1, updated: 1, unchanged: 1, keys: ['B', 'C'] });
      expect(await footprint(p, webhookId)).toEqual({ versions: before.versions + 2, events: before.events + 1, audits: before.audits + 1 });
    });

    it('a writer who may not read the environment gets no unchanged answer: every set and import is written and audited', async () => {
      const { p, webhookId } = await setup();
      await setSecret(ctx.api, as, team.org, p, 'production', { key: 'DB_PASSWORD', value: 'hunter2-prod' });
      const developer = { session: team.developer.session };
      // The developer may write production but not read it: a right guess and a wrong one answer alike.
      const answers = [];
      for (const value of ['wrong-guess', 'hunter2-prod', 'hunter2-prod']) {
        const before = await footprint(p, webhookId);
        const res = await ctx.api.put(path(p, 'production'), { key: 'DB_PASSWORD', value }, developer);
        expect(res.status).toBe(200);
        const after = await footprint(p, webhookId);
        answers.push({
          created: res.body.created,
          unchanged: res.body.unchanged,
          versions: after.versions - before.versions,
          audits: after.audits - before.audits,
        });
      }
      expect(answers).toEqual(Array(3).fill({ created: false, unchanged: false, versions: 1, audits: 1 }));
      const bulk = await ctx.api.post(`${path(p, 'production')}/bulk`, { secrets: [{ key: 'DB_PASSWORD', value: 'hunter2-prod' }] }, developer);
      expect(bulk.body).toMatchObject({ created: 0, updated: 1, unchanged: 0, total: 1 });

      // Those who may read it keep the no-op: owner and admin.
      for (const who of [as, { session: team.admin.session }]) {
        const same = await ctx.api.put(path(p, 'production'), { key: 'DB_PASSWORD', value: 'hunter2-prod' }, who);
        expect(same.body).toMatchObject({ unchanged: true });
        const again = await ctx.api.post(`${path(p, 'production')}/bulk`, { secrets: [{ key: 'DB_PASSWORD', value: 'hunter2-prod' }] }, who);
        expect(again.body).toMatchObject({ updated: 0, unchanged: 1 });
      }
      // And so does the developer where it may read (staging).
      await setSecret(ctx.api, as, team.org, p, 'staging', { key: 'K', value: 'v' });
      expect((await ctx.api.put(path(p, 'staging'), { key: 'K', value: 'v' }, developer)).body).toMatchObject({ unchanged: true });
    });
  });

  describe('check-and-set', () => {
    it('writes when If-Match or expectedVersion names the current version, and answers 409 with the current version otherwise, changing nothing', async () => {
      const { p, webhookId } = await setup();
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'K', value: 'v1' });
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'K', value: 'v2' });
      const before = await footprint(p, webhookId);

      for (const attempt of [
        { body: { key: 'K', value: 'x', expectedVersion: 1 } },
        { body: { key: 'K', value: 'x' }, headers: { 'if-match': '"1"' } },
        { body: { key: 'K', value: 'x' }, headers: { 'if-match': '0' } },
      ]) {
        const res = await ctx.api.put(path(p), attempt.body, { ...as, headers: attempt.headers });
        expect(res.status).toBe(409);
        expect(res.body).toMatchObject({ code: 'conflict', currentVersion: 2, conflicts: [{ key: 'K', currentVersion: 2 }] });
        expect(res.body.message).not.toContain('x');
      }
      expect(await footprint(p, webhookId)).toEqual(before);

      const byBody = await ctx.api.put(path(p), { key: 'K', value: 'v3', expectedVersion: 2 }, as);
      expect(byBody.body).toMatchObject({ version: 3, unchanged: false });
      const byHeader = await ctx.api.put(path(p), { key: 'K', value: 'v4' }, { ...as, headers: { 'if-match': '"3"' } });
      expect(byHeader.body).toMatchObject({ version: 4 });
    });

    it('version 0 means "not set": it creates a new key once, and conflicts when the key exists', async () => {
      const { p } = await setup();
      const first = await ctx.api.put(path(p), { key: 'NEW', value: 'a', expectedVersion: 0 }, as);
      expect(first.body).toMatchObject({ version: 1, created: true });
      const second = await ctx.api.put(path(p), { key: 'NEW', value: 'b', expectedVersion: 0 }, as);
      expect(second.status).toBe(409);
      expect(second.body.currentVersion).toBe(1);
    });

    it('two writers with the same expected version: exactly one wins', async () => {
      const { p } = await setup();
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'RACE', value: 'start' });
      const results = await Promise.all(['a', 'b', 'c', 'd'].map((value) => ctx.api.put(path(p), { key: 'RACE', value, expectedVersion: 1 }, as)));
      expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409]);
    });

    it('refuses a malformed If-Match, or one that disagrees with expectedVersion, with 400', async () => {
      const { p } = await setup();
      for (const [ifMatch, body] of [
        ['*', { key: 'K', value: 'v' }],
        ['"abc"', { key: 'K', value: 'v' }],
        ['99999999999', { key: 'K', value: 'v' }],
        ['"1"', { key: 'K', value: 'v', expectedVersion: 2 }],
      ] as const) {
        const res = await ctx.api.put(path(p), body, { ...as, headers: { 'if-match': ifMatch } });
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('bad_request');
      }
      expect((await ctx.api.get(`${path(p)}/keys`, as)).body.keys).toEqual([]);
    });

    it('a viewer gets 403 before any version check', async () => {
      const { p } = await setup();
      const res = await ctx.api.put(path(p), { key: 'K', value: 'v', expectedVersion: 5 }, { session: team.viewer.session });
      expect(res.status).toBe(403);
    });

    it('a bulk import with ifEnvironmentVersion is refused (409 naming the keys) when any of its keys changed since that version', async () => {
      const { p, webhookId } = await setup();
      await seedSecrets(ctx.api, as, team.org, p, 'development', { A: '1', B: '2', OTHER: 'x' });
      const { environmentVersion } = (await ctx.api.get(`${path(p)}/keys`, as)).body;
      expect(environmentVersion).toBeGreaterThan(0);

      // A change to a key the import does not touch does not block it.
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'OTHER', value: 'y' });
      const ok = await ctx.api.post(`${path(p)}/bulk`, { secrets: [{ key: 'A', value: '10' }], ifEnvironmentVersion: environmentVersion }, as);
      expect(ok.status).toBe(200);
      expect(ok.body.environmentVersion).toBeGreaterThan(environmentVersion);

      // B is deleted after the version: an import of B based on it is refused, A included.
      expect((await ctx.api.delete(`${path(p)}/B`, as)).status).toBe(200);
      const before = await footprint(p, webhookId);
      const refused = await ctx.api.post(
        `${path(p)}/bulk`,
        {
          secrets: [
            { key: 'A', value: '100' },
            { key: 'B', value: '20' },
          ],
          ifEnvironmentVersion: environmentVersion,
        },
        as,
      );
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'conflict',
        conflicts: [
          { key: 'A', currentVersion: 2 },
          { key: 'B', currentVersion: 0 },
        ],
      });
      expect(refused.body.environmentVersion).toBeGreaterThan(ok.body.environmentVersion);
      expect(await footprint(p, webhookId)).toEqual(before);
    });
  });
});
