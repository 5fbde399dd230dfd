/**
 * Webhooks as an API (issue 4, points 6 and 8): CRUD, validation, the signing secret (shown once,
 * stored encrypted), filters, audit, and the SSRF rules at create/update time with the default
 * WEBHOOK_ALLOW_PRIVATE=false. No instance here sends deliveries (WEBHOOK_CONCURRENCY=0), so the
 * public addresses these webhooks name are never contacted.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createOrg, createTeam, createToken, registerUser, type OrgWithTeam, type TestUser } from './factories/accounts.js';
import { createProject, createVaultToken, setSecret, type TestProject } from './factories/vault.js';
import { ALL_SECRET_EVENTS, createWebhook } from './factories/webhooks.js';
import type { Credentials } from './support/http.js';
import { startTestContext, TEST_MASTER_KEY, type TestContext } from './support/test-app.js';
import { LocalKeyProvider } from '../src/modules/keys/local-key-provider.js';

/** Public addresses (never contacted: no instance of this file delivers). */
const PUBLIC_URL = 'https://1.1.1.1/secr-hooks';
const OTHER_PUBLIC_URL = 'https://[2606:4700:4700::1111]/other';

describe('webhooks API', () => {
  let ctx: TestContext;
  let team: OrgWithTeam;
  let owner: TestUser;
  let as: Credentials;
  let project: TestProject;

  beforeAll(async () => {
    ctx = await startTestContext({ WEBHOOK_CONCURRENCY: '0' });
    team = await createTeam(ctx.api);
    owner = team.owner;
    as = { session: owner.session };
    project = await createProject(ctx.api, owner, team.org);
  });
  afterAll(() => ctx.close());

  const base = () => `/v1/webhooks/${team.org.id}`;
  const count = async () => (await ctx.db.query('SELECT count(*)::int AS n FROM webhooks WHERE org_id = $1', [team.org.id])).rows[0].n as number;

  describe('create, read, update, delete', () => {
    it('creates a webhook and shows its signing secret in that response only', async () => {
      const res = await ctx.api.post(base(), { url: PUBLIC_URL, events: ['secret.created', 'secret.deleted'], description: 'Deploy bot' }, as);
      expect(res.status).toBe(201);
      const { secret, ...webhook } = res.body;
      expect(secret).toMatch(/^whsec_[0-9A-Za-z]{43}$/);
      expect(webhook).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        url: PUBLIC_URL,
        description: 'Deploy bot',
        events: ['secret.created', 'secret.deleted'],
        project: null,
        environments: null,
        enabled: true,
        secretHint: `${secret.slice(0, 10)}…`,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });

      const listed = await ctx.api.get(base(), as);
      expect(listed.status).toBe(200);
      expect(listed.body.webhooks).toContainEqual(webhook);
      const got = await ctx.api.get(`${base()}/${webhook.id}`, as);
      expect(got.status).toBe(200);
      expect(got.body).toEqual({ ...webhook, deliveries: [], pagination: { limit: 50, offset: 0, total: 0 } });
      for (const text of [listed.text, got.text]) expect(text).not.toContain(secret);
    });

    it('stores the signing secret only wrapped by the master key, bound to its webhook', async () => {
      const created = await createWebhook(ctx.api, owner, team.org, { url: PUBLIC_URL });
      const hex = Buffer.from(created.secret).toString('hex');
      // Every row of every table, ours and pg-boss's, as text: bytea columns print as hex.
      const { rows: tables } = await ctx.db.query<{ name: string }>(
        `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname IN ('public', 'pgboss')`,
      );
      expect(tables.length).toBeGreaterThan(10);
      for (const { name } of tables) {
        const { rows } = await ctx.db.query(`SELECT count(*)::int AS n FROM ${name} t WHERE t::text LIKE $1 OR t::text LIKE $2`, [
          `%${created.secret}%`,
          `%${hex}%`,
        ]);
        expect({ table: name, rows: rows[0].n }).toEqual({ table: name, rows: 0 });
      }

      const { rows } = await ctx.db.query('SELECT secret_ciphertext, secret_provider, secret_master_key FROM webhooks WHERE id = $1', [created.id]);
      const provider = new LocalKeyProvider(TEST_MASTER_KEY);
      expect(rows[0]).toMatchObject({ secret_provider: 'local', secret_master_key: provider.masterKeyId });
      expect((await provider.unwrap(rows[0].secret_ciphertext, { webhookId: created.id })).toString()).toBe(created.secret);
      // Bound to its webhook: copied to another, it does not unwrap.
      await expect(provider.unwrap(rows[0].secret_ciphertext, { webhookId: '00000000-0000-4000-8000-000000000000' })).rejects.toThrow();
    });

    it('updates URL, events, filters, description and enabled, keeps the secret, and clears a filter with null', async () => {
      const created = await createWebhook(ctx.api, owner, team.org, { url: PUBLIC_URL, events: ['secret.created'] });
      const before = (await ctx.api.get(`${base()}/${created.id}`, as)).body;
      const path = `${base()}/${created.id}`;

      const res = await ctx.api.patch(
        path,
        {
          url: OTHER_PUBLIC_URL,
          events: ['secret.updated', 'secret.promoted'],
          project: project.slug,
          environments: ['prod', 'staging'],
          enabled: false,
          description: 'now filtered',
        },
        as,
      );
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        ...before,
        url: OTHER_PUBLIC_URL,
        events: ['secret.updated', 'secret.promoted'],
        project: { id: project.id, slug: project.slug },
        environments: ['production', 'staging'],
        enabled: false,
        description: 'now filtered',
        updatedAt: expect.any(String),
        deliveries: undefined,
        pagination: undefined,
      });
      expect(new Date(res.body.updatedAt).getTime()).toBeGreaterThan(new Date(before.updatedAt).getTime());
      expect(res.body.secretHint).toBe(before.secretHint);

      const cleared = await ctx.api.patch(path, { environments: null, description: null }, as);
      expect(cleared.status).toBe(200);
      expect(cleared.body).toMatchObject({ project: { id: project.id }, environments: null, description: null, enabled: false });
      expect((await ctx.api.patch(path, { project: null }, as)).body).toMatchObject({ project: null, environments: null });
      expect((await ctx.api.patch(path, {}, as)).status).toBe(200);
    });

    it('refuses null or empty where a value is required, and answers 404 for a webhook that does not exist', async () => {
      const created = await createWebhook(ctx.api, owner, team.org, { url: PUBLIC_URL });
      for (const [body, field] of [
        [{ url: null }, 'url'],
        [{ events: null }, 'events'],
        [{ events: [] }, 'events'],
        [{ enabled: null }, 'enabled'],
        [{ environments: [] }, 'environments'],
        [{ secret: 'whsec_mine' }, 'secret'],
      ] as const) {
        const res = await ctx.api.patch(`${base()}/${created.id}`, body, as);
        expect(res.status).toBe(400);
        expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      }
      const missing = '00000000-0000-4000-8000-000000000000';
      for (const res of [
        await ctx.api.get(`${base()}/${missing}`, as),
        await ctx.api.patch(`${base()}/${missing}`, { enabled: false }, as),
        await ctx.api.delete(`${base()}/${missing}`, as),
        await ctx.api.post(`${base()}/${missing}/test`, undefined, as),
      ]) {
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({ code: 'not_found', message: `Webhook '${missing}' not found` });
      }
      const malformed = await ctx.api.get(`${base()}/not-a-uuid`, as);
      expect(malformed.status).toBe(400);
      expect(malformed.body.errors).toEqual([expect.objectContaining({ field: 'id' })]);
    });

    it('deletes a webhook with its delivery log', async () => {
      const created = await createWebhook(ctx.api, owner, team.org, { url: PUBLIC_URL });
      await ctx.db.query(
        `INSERT INTO webhook_deliveries (webhook_id, delivery_id, event, attempt, outcome, status_code, duration_ms)
         VALUES ($1, gen_random_uuid(), 'secret.created', 1, 'delivered', 200, 12)`,
        [created.id],
      );
      expect((await ctx.api.get(`${base()}/${created.id}`, as)).body.deliveries).toHaveLength(1);
      expect((await ctx.api.delete(`${base()}/${created.id}`, as)).status).toBe(204);
      expect((await ctx.api.get(`${base()}/${created.id}`, as)).status).toBe(404);
      const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1', [created.id]);
      expect(rows[0].n).toBe(0);
    });

    it('pages the delivery log, newest attempt first', async () => {
      const created = await createWebhook(ctx.api, owner, team.org, { url: PUBLIC_URL });
      await ctx.db.query(
        `INSERT INTO webhook_deliveries (webhook_id, delivery_id, event, attempt, outcome, status_code, duration_ms, created_at)
         SELECT $1, gen_random_uuid(), 'secret.created', 1, 'delivered', 200, i, now() - i * interval '1 minute'
           FROM generate_series(1, 5) AS i`,
        [created.id],
      );
      const page = await ctx.api.get(`${base()}/${created.id}?limit=2&offset=1`, as);
      expect(page.status).toBe(200);
      expect(page.body.pagination).toEqual({ limit: 2, offset: 1, total: 5 });
      expect(page.body.deliveries.map((d: { durationMs: number }) => d.durationMs)).toEqual([2, 3]);
      expect((await ctx.api.get(`${base()}/${created.id}?limit=0`, as)).status).toBe(400);
    });

    it("limits an org's webhooks to its plan's webhooksPerOrg", async () => {
      const org = await createOrg(ctx.api, owner, 'Many hooks');
      await ctx.db.query(`UPDATE orgs SET limit_overrides = '{"webhooksPerOrg": 2}' WHERE id = $1`, [org.id]);
      for (let i = 0; i < 2; i++) await createWebhook(ctx.api, owner, org, { url: `${PUBLIC_URL}/${i}` });
      const res = await ctx.api.post(`/v1/webhooks/${org.id}`, { url: PUBLIC_URL, events: ['secret.created'] }, as);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'plan_limit_exceeded' });
      expect(res.body.message).toMatch(/webhooksPerOrg.*2.*current usage is 2/);
    });
  });

  describe('validation', () => {
    it('refuses bodies with wrong events, missing or over-long fields, bad slugs and unknown fields, creating nothing', async () => {
      const before = await count();
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ events: ['secret.created'] }, 'url'],
        [{ url: PUBLIC_URL }, 'events'],
        [{ url: PUBLIC_URL, events: [] }, 'events'],
        [{ url: PUBLIC_URL, events: ['secret.read'] }, 'events'],
        [{ url: PUBLIC_URL, events: ['secret.created', 'secret.created'] }, 'events'],
        [{ url: PUBLIC_URL, events: 'secret.created' }, 'events'],
        [{ url: `${PUBLIC_URL}/${'x'.repeat(2048)}`, events: ['secret.created'] }, 'url'],
        [{ url: PUBLIC_URL, events: ['secret.created'], description: 'd'.repeat(1025) }, 'description'],
        [{ url: PUBLIC_URL, events: ['secret.created'], environments: ['Not A Slug'] }, 'environments'],
        [{ url: PUBLIC_URL, events: ['secret.created'], environments: [] }, 'environments'],
        [{ url: PUBLIC_URL, events: ['secret.created'], project: 'p'.repeat(65) }, 'project'],
        [{ url: PUBLIC_URL, events: ['secret.created'], enabled: 'yes' }, 'enabled'],
        [{ url: PUBLIC_URL, events: ['secret.created'], secret: 'whsec_chosen_by_me' }, 'secret'],
        [{ url: 'not a url', events: ['secret.created'] }, 'url'],
      ];
      for (const [body, field] of cases) {
        const res = await ctx.api.post(base(), body, as);
        expect({ body, status: res.status, code: res.body.code }).toEqual({ body, status: 400, code: 'validation_failed' });
        expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      }
      expect(await count()).toBe(before);
    });

    it('takes a project by slug or id and environments by slug or alias, and answers 404 for ones the org does not have', async () => {
      const bySlug = await ctx.api.post(
        base(),
        { url: PUBLIC_URL, events: ['secret.created'], project: project.slug, environments: ['dev', 'production'] },
        as,
      );
      expect(bySlug.status).toBe(201);
      expect(bySlug.body).toMatchObject({ project: { id: project.id, slug: project.slug }, environments: ['development', 'production'] });
      const byId = await ctx.api.post(base(), { url: PUBLIC_URL, events: ['secret.created'], project: project.id }, as);
      expect(byId.body).toMatchObject({ project: { id: project.id, slug: project.slug }, environments: null });

      // A custom environment: valid for its project, and (without a project) for the org.
      expect((await ctx.api.post(`/v1/projects/${team.org.id}/${project.slug}/environments`, { slug: 'qa', tier: 'staging' }, as)).status).toBe(201);
      const other = await createProject(ctx.api, owner, team.org);
      expect((await ctx.api.post(base(), { url: PUBLIC_URL, events: ['secret.created'], environments: ['qa'] }, as)).status).toBe(201);
      expect((await ctx.api.post(base(), { url: PUBLIC_URL, events: ['secret.created'], project: project.slug, environments: ['qa'] }, as)).status).toBe(201);

      const foreign = await createProject(ctx.api, owner, await createOrg(ctx.api, owner, 'Elsewhere'));
      const before = await count();
      for (const [body, message] of [
        [{ project: 'no-such-project' }, "Project 'no-such-project' not found"],
        [{ project: foreign.id }, `Project '${foreign.id}' not found`],
        [{ project: foreign.slug }, `Project '${foreign.slug}' not found`],
        [{ project: other.slug, environments: ['qa'] }, "Environment 'qa' not found"],
        [{ environments: ['uat'] }, "Environment 'uat' not found"],
      ] as const) {
        const res = await ctx.api.post(base(), { url: PUBLIC_URL, events: ['secret.created'], ...body }, as);
        expect({ status: res.status, message: res.body.message }).toEqual({ status: 404, message });
      }
      // Moving a filtered webhook to a project without its environments is refused too.
      const res = await ctx.api.patch(`${base()}/${bySlug.body.id}`, { project: other.slug, environments: ['qa'] }, as);
      expect(res.status).toBe(404);
      expect(await count()).toBe(before);
    });
  });

  describe('SSRF rules (WEBHOOK_ALLOW_PRIVATE=false)', () => {
    const refused: Array<[string, RegExp]> = [
      ['https://127.0.0.1/hook', /127\.0\.0\.1 is a loopback address/],
      ['https://127.1.2.3:8443/hook', /loopback/],
      ['https://localhost/hook', /localhost is a loopback address/],
      ['https://api.localhost/hook', /loopback/],
      ['https://[::1]/hook', /loopback/],
      ['https://[::ffff:127.0.0.1]/hook', /loopback/],
      ['https://2130706433/hook', /127\.0\.0\.1 is a loopback address/], // 127.0.0.1 written as a number
      ['https://10.1.2.3/hook', /private network address/],
      ['https://172.16.5.4/hook', /private network address/],
      ['https://192.168.1.1/hook', /private network address/],
      ['https://[fd12:3456::1]/hook', /private network address/],
      ['https://169.254.10.10/hook', /link-local address/],
      ['https://[fe80::1]/hook', /link-local address/],
      ['https://169.254.169.254/latest/meta-data/', /cloud metadata endpoint/],
      ['https://[fd00:ec2::254]/latest', /cloud metadata endpoint/],
      ['https://metadata.google.internal/computeMetadata/v1/', /cloud metadata endpoint/],
      ['https://100.64.0.1/hook', /carrier-grade NAT/],
      ['https://224.0.0.1/hook', /multicast address/],
      ['https://[ff02::1]/hook', /multicast address/],
      ['https://0.0.0.0/hook', /unspecified address/],
      ['https://[::]/hook', /unspecified address/],
      ['https://printer.local/hook', /not a public domain name/],
      ['https://intranet/hook', /not a public domain name/],
      ['http://1.1.1.1/hook', /url must use https/],
      ['https://user:password@1.1.1.1/hook', /must not contain a user name or password/],
      ['ftp://1.1.1.1/hook', /url must use https/],
    ];

    it.each(refused)('refuses %s at create, naming why', async (url, reason) => {
      const before = await count();
      const res = await ctx.api.post(base(), { url, events: ['secret.created'] }, as);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'url', message: expect.stringMatching(reason) }] });
      expect(res.text).not.toContain('password@');
      expect(await count()).toBe(before);
    });

    it('refuses a private URL at update and keeps the old one', async () => {
      const created = await createWebhook(ctx.api, owner, team.org, { url: PUBLIC_URL });
      const res = await ctx.api.patch(`${base()}/${created.id}`, { url: 'https://192.168.0.10/hook' }, as);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ field: 'url', message: expect.stringMatching(/private network address/) }]);
      expect((await ctx.api.get(`${base()}/${created.id}`, as)).body.url).toBe(PUBLIC_URL);
    });
  });

  describe('access', () => {
    it('lets owners and admins manage webhooks, and nobody else', async () => {
      const byAdmin = await ctx.api.post(base(), { url: PUBLIC_URL, events: ['secret.created'] }, { session: team.admin.session });
      expect(byAdmin.status).toBe(201);
      for (const user of [team.developer, team.viewer]) {
        const as = { session: user.session };
        expect((await ctx.api.get(base(), as)).status).toBe(403);
        expect((await ctx.api.get(`${base()}/${byAdmin.body.id}`, as)).status).toBe(403);
        expect((await ctx.api.post(base(), { url: PUBLIC_URL, events: ['secret.created'] }, as)).status).toBe(403);
        expect((await ctx.api.delete(`${base()}/${byAdmin.body.id}`, as)).status).toBe(403);
      }
      const outsider = await registerUser(ctx.api, 'outsider');
      expect((await ctx.api.get(base(), { session: outsider.session })).status).toBe(403);
      expect((await ctx.api.get(base())).status).toBe(401);
    });

    it('does not show or touch another org’s webhook through this org', async () => {
      const elsewhere = await createOrg(ctx.api, owner, 'Other hooks');
      const theirs = await createWebhook(ctx.api, owner, elsewhere, { url: PUBLIC_URL });
      expect((await ctx.api.get(`${base()}/${theirs.id}`, as)).status).toBe(404);
      expect((await ctx.api.patch(`${base()}/${theirs.id}`, { enabled: false }, as)).status).toBe(404);
      expect((await ctx.api.delete(`${base()}/${theirs.id}`, as)).status).toBe(404);
      expect((await ctx.api.get(base(), as)).body.webhooks.map((w: { id: string }) => w.id)).not.toContain(theirs.id);
      expect((await ctx.api.get(`/v1/webhooks/${elsewhere.id}/${theirs.id}`, as)).status).toBe(200);
    });

    it('lets an org-wide read token list webhooks but not change them, and refuses tokens narrowed to a project', async () => {
      const read = await createToken(ctx.api, owner, { access: 'read', orgId: team.org.id });
      expect((await ctx.api.get(base(), { token: read.token })).status).toBe(200);
      expect((await ctx.api.post(base(), { url: PUBLIC_URL, events: ['secret.created'] }, { token: read.token })).status).toBe(403);

      const readWrite = await createToken(ctx.api, owner, { access: 'read_write', orgId: team.org.id });
      expect((await ctx.api.post(base(), { url: PUBLIC_URL, events: ['secret.created'] }, { token: readWrite.token })).status).toBe(201);

      const narrowed = await createVaultToken(ctx.api, owner, { access: 'read_write', orgId: team.org.id, projectId: project.id });
      for (const res of [
        await ctx.api.get(base(), { token: narrowed.token }),
        await ctx.api.post(base(), { url: PUBLIC_URL, events: ['secret.created'], project: project.slug }, { token: narrowed.token }),
      ]) {
        expect(res.status).toBe(403);
        expect(res.body.message).toMatch(/whole organization/);
      }
    });
  });

  describe('audit and test deliveries', () => {
    it('audits create, update, test and delete with the webhook and its host, never the secret or the URL path', async () => {
      const url = 'https://1.1.1.1/services/T000/B000/pathTokenDoNotLog';
      const created = await createWebhook(ctx.api, owner, team.org, { url });
      expect((await ctx.api.patch(`${base()}/${created.id}`, { enabled: false }, as)).status).toBe(200);
      const tested = await ctx.api.post(`${base()}/${created.id}/test`, undefined, as);
      expect(tested.status).toBe(202);
      expect((await ctx.api.delete(`${base()}/${created.id}`, as)).status).toBe(204);

      const { rows } = await ctx.db.query(`SELECT action, metadata, metadata::text AS text FROM audit_events WHERE metadata->>'webhookId' = $1 ORDER BY id`, [
        created.id,
      ]);
      expect(rows.map((r) => r.action)).toEqual(['webhook.created', 'webhook.updated', 'webhook.tested', 'webhook.deleted']);
      expect(rows[0].metadata).toMatchObject({ webhookId: created.id, host: '1.1.1.1', events: ALL_SECRET_EVENTS, enabled: true });
      expect(rows[1].metadata).toMatchObject({ changed: ['enabled'], enabled: false });
      expect(rows[2].metadata).toMatchObject({ deliveryId: tested.body.deliveryId });
      for (const row of rows) {
        expect(row.text).not.toContain(created.secret);
        expect(row.text).not.toContain('pathTokenDoNotLog');
      }
    });

    it('queues a test delivery as a job that waits while no instance sends', async () => {
      const created = await createWebhook(ctx.api, owner, team.org, { url: PUBLIC_URL });
      const res = await ctx.api.post(`${base()}/${created.id}/test`, undefined, as);
      expect(res.status).toBe(202);
      const { rows } = await ctx.db.query(`SELECT state::text, retry_limit, data FROM pgboss.job WHERE id = $1`, [res.body.deliveryId]);
      expect(rows).toEqual([{ state: 'created', retry_limit: 0, data: expect.objectContaining({ webhookId: created.id, event: 'webhook.test', test: true }) }]);
    });

    it('enqueues one job per matching webhook inside the write, with the configured retries', async () => {
      const p = await createProject(ctx.api, owner, team.org);
      const hooks = await Promise.all([0, 1].map(() => createWebhook(ctx.api, owner, team.org, { url: PUBLIC_URL, project: p.slug })));
      await setSecret(ctx.api, as, team.org, p, 'development', { key: 'ENQUEUED', value: 'v' });
      const { rows } = await ctx.db.query(
        `SELECT data->>'webhookId' AS webhook, retry_limit, retry_delay, retry_backoff FROM pgboss.job
          WHERE data->>'webhookId' = ANY($1) ORDER BY 1`,
        [hooks.map((h) => h.id)],
      );
      expect(rows).toEqual(
        hooks.map((h) => ({ webhook: h.id, retry_limit: 5, retry_delay: 30, retry_backoff: true })).sort((a, b) => (a.webhook < b.webhook ? -1 : 1)),
      );
    });
  });
});
