/**
 * Webhook deliveries end to end (issue 4, points 7 and 9): real writes of secrets, pg-boss jobs in the
 * test database, and a real receiver on 127.0.0.1 that checks signatures with the README's recipe.
 * Deliveries are fast here: retries wait 1–2 s, attempts time out after 0.5 s, workers poll every 0.5 s
 * (each the smallest the config allows); the tests run concurrently, each on a webhook of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTeam, type OrgWithTeam, type TestUser } from './factories/accounts.js';
import { createProject, secretsPath, seedSecrets, setSecret, type TestProject } from './factories/vault.js';
import { createWebhook, type WebhookInput } from './factories/webhooks.js';
import type { Credentials } from './support/http.js';
import { startTestContext, type TestContext } from './support/test-app.js';
import { hasValidSignature, hasValidTimestampSignature, WebhookReceiver, type ReceivedRequest } from './support/webhook-receiver.js';

/** A value that must never leave the vault: not in a payload, a header, a job or the delivery log. */
const MARKER = 'marker-value-that-must-never-leave-Q7x2';
const PAYLOAD_KEYS = ['event', 'timestamp', 'org', 'project', 'environment', 'key', 'actor', 'metadata'];

interface Delivery {
  id: string;
  deliveryId: string;
  event: string;
  attempt: number;
  outcome: 'delivered' | 'retrying' | 'failed';
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  response: string | null;
}

/**
 * The delivery time-out: long enough that a receiver on this loaded machine always answers within it
 * (at 500 ms a test delivery was once logged as timed out), short enough for the test of a receiver
 * that never answers.
 */
const TIMEOUT_MS = 2_000;

describe('webhook deliveries', () => {
  let ctx: TestContext;
  let receiver: WebhookReceiver;
  let team: OrgWithTeam;
  let owner: TestUser;
  let as: Credentials;
  let paths = 0;

  beforeAll(async () => {
    [ctx, receiver] = await Promise.all([
      startTestContext({
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_RETRY_BASE_SECONDS: '1',
        WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
        WEBHOOK_POLL_INTERVAL_MS: '500',
        WEBHOOK_MAX_ATTEMPTS: '2',
      }),
      WebhookReceiver.start(),
    ]);
    team = await createTeam(ctx.api);
    owner = team.owner;
    as = { session: owner.session };
  });
  afterAll(async () => {
    await ctx.close();
    await receiver.close();
  });

  /** A webhook on a path of its own, for a project of its own (so other tests' writes never reach it). */
  async function setUp(input: Partial<WebhookInput> = {}) {
    const project = await createProject(ctx.api, owner, team.org);
    const path = `/hook-${++paths}`;
    const webhook = await createWebhook(ctx.api, owner, team.org, { url: receiver.url(path), project: project.slug, ...input });
    return { project, path, webhook };
  }

  async function deliveryLog(webhookId: string): Promise<Delivery[]> {
    const res = await ctx.api.get(`/v1/webhooks/${team.org.id}/${webhookId}`, as);
    expect(res.status).toBe(200);
    return res.body.deliveries;
  }

  /** Polls the delivery log until it holds `count` attempts. */
  async function waitForLog(webhookId: string, count: number, timeoutMs = 10_000): Promise<Delivery[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const log = await deliveryLog(webhookId);
      if (log.length >= count) return log;
      if (Date.now() > deadline) throw new Error(`delivery log of ${webhookId} has ${log.length} of ${count} attempts`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Jobs ever enqueued for a webhook (pg-boss keeps completed jobs for a day). */
  async function jobsFor(webhookId: string): Promise<number> {
    const { rows } = await ctx.db.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'webhook-delivery' AND data->>'webhookId' = $1`, [webhookId]);
    return rows[0].n;
  }

  /** Waits for a delivery's job to settle for good: `completed` (sent, or refused by the receiver) or `failed` (attempts used up). */
  async function finalJobState(deliveryId: string, timeoutMs = 10_000): Promise<{ state: string; retry_count: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await ctx.db.query(`SELECT state::text, retry_count FROM pgboss.job WHERE id = $1`, [deliveryId]);
      if (rows[0] && ['completed', 'failed', 'cancelled'].includes(rows[0].state)) return rows[0];
      if (Date.now() > deadline) throw new Error(`job ${deliveryId} is still ${rows[0]?.state}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const json = (r: ReceivedRequest) => JSON.parse(r.body);
  const path = (p: TestProject, env = 'development') => secretsPath(team.org, p, env);

  it.concurrent('delivers every kind of secret event with the documented payload and headers, validly signed', async () => {
    const { project, path: hookPath, webhook } = await setUp();
    const started = Math.floor(Date.now() / 1000);
    await setSecret(ctx.api, as, team.org, project, 'development', { key: 'API_KEY', value: `${MARKER}-1` });
    await setSecret(ctx.api, as, team.org, project, 'development', { key: 'API_KEY', value: `${MARKER}-2` });
    expect((await ctx.api.post(`${path(project)}/rollback`, { key: 'API_KEY', version: 1 }, as)).status).toBe(200);
    await seedSecrets(ctx.api, as, team.org, project, 'development', { BULK_A: `${MARKER}-3`, BULK_B: `${MARKER}-4` });
    expect((await ctx.api.delete(`${path(project)}/API_KEY`, as)).status).toBe(200);
    expect((await ctx.api.post(`${path(project)}/bulk-delete`, { keys: ['BULK_A', 'BULK_B'] }, as)).status).toBe(200);

    const received = await receiver.waitFor(hookPath, 6);
    const byEvent = (event: string) => received.filter((r) => json(r).event === event).map(json);
    expect(received.map((r) => json(r).event).sort()).toEqual(
      ['secret.bulk_delete', 'secret.bulk_set', 'secret.created', 'secret.deleted', 'secret.updated', 'secret.updated'].sort(),
    );

    const { rows } = await ctx.db.query(`SELECT id FROM environments WHERE project_id = $1 AND slug = 'development'`, [project.id]);
    const common = {
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      org: { id: team.org.id },
      project: { id: project.id, slug: project.slug },
      environment: { id: rows[0].id, slug: 'development' },
      actor: { id: owner.id, email: owner.email },
    };
    expect(byEvent('secret.created')).toEqual([{ event: 'secret.created', ...common, key: 'API_KEY', metadata: { version: 1 } }]);
    expect(byEvent('secret.updated')).toEqual(
      expect.arrayContaining([
        { event: 'secret.updated', ...common, key: 'API_KEY', metadata: { version: 2 } },
        { event: 'secret.updated', ...common, key: 'API_KEY', metadata: { version: 3, restoredFrom: 1 } },
      ]),
    );
    expect(byEvent('secret.bulk_set')).toEqual([
      { event: 'secret.bulk_set', ...common, key: null, metadata: { created: 2, updated: 0, unchanged: 0, total: 2, keys: ['BULK_A', 'BULK_B'] } },
    ]);
    expect(byEvent('secret.deleted')).toEqual([{ event: 'secret.deleted', ...common, key: 'API_KEY', metadata: {} }]);
    expect(byEvent('secret.bulk_delete')).toEqual([{ event: 'secret.bulk_delete', ...common, key: null, metadata: { count: 2, keys: ['BULK_A', 'BULK_B'] } }]);

    for (const request of received) {
      expect(Object.keys(json(request))).toEqual(PAYLOAD_KEYS);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['x-secr-event']).toBe(json(request).event);
      expect(request.headers['x-secr-delivery']).toMatch(/^[0-9a-f-]{36}$/);
      expect(request.headers['user-agent']).toMatch(/^secr-webhooks\//);
      const timestamp = Number(request.headers['x-secr-timestamp']);
      expect(timestamp).toBeGreaterThanOrEqual(started);
      expect(timestamp).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
      expect(hasValidSignature(request, webhook.secret)).toBe(true);
      expect(hasValidTimestampSignature(request, webhook.secret)).toBe(true);
      // A signature made with another secret, or over another body, does not verify.
      expect(hasValidSignature({ ...request, body: request.body.replace('"org"', '"org" ') }, webhook.secret)).toBe(false);
      expect(hasValidSignature(request, `${webhook.secret}x`)).toBe(false);
    }
    expect(new Set(received.map((r) => r.headers['x-secr-delivery'])).size).toBe(6);

    const log = await waitForLog(webhook.id, 6);
    expect(log.every((d) => d.outcome === 'delivered' && d.statusCode === 200 && d.attempt === 1 && d.error === null)).toBe(true);
    expect(log.map((d) => d.deliveryId).sort()).toEqual(received.map((r) => r.headers['x-secr-delivery']).sort());
  });

  it.concurrent('announces a promotion once, with counts and key names, and nothing for a dry run', async () => {
    const { project, path: hookPath, webhook } = await setUp({ events: ['secret.promoted'] });
    await seedSecrets(ctx.api, as, team.org, project, 'development', { PROMO_A: `${MARKER}-a`, PROMO_B: `${MARKER}-b` });
    const promote = (body: Record<string, unknown>) => ctx.api.post(`/v1/secrets/${team.org.slug}/${project.slug}/promote`, body, as);
    expect((await promote({ fromEnv: 'development', toEnv: 'staging', dryRun: true })).status).toBe(200);
    expect((await promote({ fromEnv: 'development', toEnv: 'staging' })).body.promoted).toBe(2);

    const [request] = await receiver.waitFor(hookPath, 1);
    const { rows } = await ctx.db.query(`SELECT id FROM environments WHERE project_id = $1 AND slug = 'staging'`, [project.id]);
    expect(json(request)).toMatchObject({
      event: 'secret.promoted',
      project: { id: project.id, slug: project.slug },
      environment: { id: rows[0].id, slug: 'staging' },
      key: null,
      metadata: { fromEnvironment: 'development', promoted: 2, created: ['PROMO_A', 'PROMO_B'], updated: [] },
    });
    expect(hasValidSignature(request, webhook.secret)).toBe(true);
    expect(request.body).not.toContain(MARKER);
    // The dry run enqueued nothing: one job for the one real promotion.
    expect(await jobsFor(webhook.id)).toBe(1);
  });

  it.concurrent('never lets a secret value reach a receiver, a queued job or the delivery log', async () => {
    const { project, path: hookPath, webhook } = await setUp();
    const marker = `${MARKER}-own`;
    await setSecret(ctx.api, as, team.org, project, 'development', { key: 'SET', value: marker });
    await seedSecrets(ctx.api, as, team.org, project, 'development', { BULK: marker });
    expect((await ctx.api.delete(`${path(project)}/SET`, as)).status).toBe(200);
    await receiver.waitFor(hookPath, 3);
    await waitForLog(webhook.id, 3);
    for (const request of receiver.to(hookPath)) {
      expect(request.body).not.toContain(MARKER);
      expect(JSON.stringify(request.headers)).not.toContain(MARKER);
    }
    const { rows } = await ctx.db.query(
      `SELECT (SELECT count(*)::int FROM pgboss.job WHERE data::text LIKE '%' || $1 || '%') AS jobs,
              (SELECT count(*)::int FROM webhook_deliveries d WHERE d::text LIKE '%' || $1 || '%') AS attempts`,
      [marker],
    );
    expect(rows[0]).toEqual({ jobs: 0, attempts: 0 });
  });

  it.concurrent('retries a receiver that answers 500, and logs both attempts of the one delivery', async () => {
    const { project, path: hookPath, webhook } = await setUp({ events: ['secret.created'] });
    receiver.script(hookPath, { status: 500, body: 'temporarily broken' });
    await setSecret(ctx.api, as, team.org, project, 'development', { key: 'RETRIED', value: 'v' });

    const [first, second] = await receiver.waitFor(hookPath, 2);
    expect(second.headers['x-secr-delivery']).toBe(first.headers['x-secr-delivery']);
    expect(second.body).toBe(first.body);
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(900); // backoff: 1–2 × WEBHOOK_RETRY_BASE_SECONDS
    expect(hasValidSignature(second, webhook.secret)).toBe(true);

    const log = await waitForLog(webhook.id, 2);
    expect(log).toEqual([
      expect.objectContaining({ deliveryId: first.headers['x-secr-delivery'], attempt: 2, outcome: 'delivered', statusCode: 200, error: null }),
      expect.objectContaining({
        deliveryId: first.headers['x-secr-delivery'],
        attempt: 1,
        outcome: 'retrying',
        statusCode: 500,
        error: 'HTTP 500',
        response: 'temporarily broken',
      }),
    ]);
    expect(log[1].durationMs).toBeGreaterThanOrEqual(0);
  });

  it.concurrent('gives up after the last attempt (WEBHOOK_MAX_ATTEMPTS) and logs it as failed', async () => {
    const { project, path: hookPath, webhook } = await setUp({ events: ['secret.created'] });
    receiver.script(hookPath, 503, 503, 503);
    await setSecret(ctx.api, as, team.org, project, 'development', { key: 'NEVER_OK', value: 'v' });
    await receiver.waitFor(hookPath, 2);
    const log = await waitForLog(webhook.id, 2);
    expect(log.map((d) => [d.attempt, d.outcome, d.statusCode])).toEqual([
      [2, 'failed', 503],
      [1, 'retrying', 503],
    ]);
    // pg-boss has failed the job for good: no third attempt is scheduled.
    expect(await finalJobState(log[0].deliveryId)).toEqual({ state: 'failed', retry_count: 1 });
    expect(receiver.to(hookPath)).toHaveLength(2);
  });

  it.concurrent('does not retry a 4xx: the receiver has answered', async () => {
    const { project, path: hookPath, webhook } = await setUp({ events: ['secret.created'] });
    receiver.script(hookPath, { status: 410, body: 'gone' });
    await setSecret(ctx.api, as, team.org, project, 'development', { key: 'REFUSED', value: 'v' });
    await receiver.waitFor(hookPath, 1);
    const log = await waitForLog(webhook.id, 1);
    expect(log).toEqual([expect.objectContaining({ attempt: 1, outcome: 'failed', statusCode: 410, error: 'HTTP 410', response: 'gone' })]);
    // Settled after one attempt: nothing is left to retry.
    expect(await finalJobState(log[0].deliveryId)).toEqual({ state: 'completed', retry_count: 0 });
    expect(receiver.to(hookPath)).toHaveLength(1);
  });

  it.concurrent('logs an attempt the receiver does not answer in time as timed out, and retries it', async () => {
    const { project, path: hookPath, webhook } = await setUp({ events: ['secret.created'] });
    receiver.script(hookPath, 'hang');
    await setSecret(ctx.api, as, team.org, project, 'development', { key: 'SLOW', value: 'v' });
    await receiver.waitFor(hookPath, 2);
    const log = await waitForLog(webhook.id, 2);
    expect(log).toEqual([
      expect.objectContaining({ attempt: 2, outcome: 'delivered', statusCode: 200 }),
      expect.objectContaining({ attempt: 1, outcome: 'retrying', statusCode: null, error: `Timed out after ${TIMEOUT_MS} ms`, response: null }),
    ]);
    // It waited the whole time-out for an answer that never comes (the receiver hangs for good).
    expect(log[1].durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
  });

  it.concurrent('delivers only the events, project and environments a webhook subscribes to', async () => {
    const { project, path: hookPath, webhook } = await setUp({ events: ['secret.deleted', 'secret.bulk_set'], environments: ['prod'] });
    const other = await createProject(ctx.api, owner, team.org);
    await setSecret(ctx.api, as, team.org, project, 'production', { key: 'WRONG_EVENT', value: 'v' }); // secret.created
    await seedSecrets(ctx.api, as, team.org, project, 'staging', { WRONG_ENV: 'v' }); // staging
    await seedSecrets(ctx.api, as, team.org, other, 'production', { WRONG_PROJECT: 'v' }); // another project
    expect(await jobsFor(webhook.id)).toBe(0);

    await seedSecrets(ctx.api, as, team.org, project, 'production', { RIGHT: 'v' });
    expect((await ctx.api.delete(`${path(project, 'production')}/WRONG_EVENT`, as)).status).toBe(200);
    const received = await receiver.waitFor(hookPath, 2);
    expect(received.map((r) => [json(r).event, json(r).environment.slug]).sort()).toEqual([
      ['secret.bulk_set', 'production'],
      ['secret.deleted', 'production'],
    ]);
    expect(await jobsFor(webhook.id)).toBe(2);
  });

  it.concurrent('sends nothing to a disabled webhook, and sends again once it is enabled', async () => {
    const { project, path: hookPath, webhook } = await setUp({ events: ['secret.created'], enabled: false });
    await setSecret(ctx.api, as, team.org, project, 'development', { key: 'WHILE_DISABLED', value: 'v' });
    expect(await jobsFor(webhook.id)).toBe(0);

    expect((await ctx.api.patch(`/v1/webhooks/${team.org.id}/${webhook.id}`, { enabled: true }, as)).status).toBe(200);
    await setSecret(ctx.api, as, team.org, project, 'development', { key: 'WHILE_ENABLED', value: 'v' });
    const received = await receiver.waitFor(hookPath, 1);
    expect(json(received[0]).key).toBe('WHILE_ENABLED');
  });

  it.concurrent('sends a test delivery on request, even to a disabled webhook, and logs it', async () => {
    const { path: hookPath, webhook } = await setUp({ enabled: false });
    const res = await ctx.api.post(`/v1/webhooks/${team.org.id}/${webhook.id}/test`, undefined, as);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ deliveryId: expect.stringMatching(/^[0-9a-f-]{36}$/) });

    const [request] = await receiver.waitFor(hookPath, 1);
    expect(request.headers['x-secr-event']).toBe('webhook.test');
    expect(request.headers['x-secr-delivery']).toBe(res.body.deliveryId);
    expect(hasValidSignature(request, webhook.secret)).toBe(true);
    expect(json(request)).toEqual({
      event: 'webhook.test',
      timestamp: expect.any(String),
      org: { id: team.org.id },
      project: null,
      environment: null,
      key: null,
      actor: { id: owner.id, email: owner.email },
      metadata: { webhookId: webhook.id, message: expect.any(String) },
    });
    const log = await waitForLog(webhook.id, 1);
    expect(log).toEqual([expect.objectContaining({ deliveryId: res.body.deliveryId, event: 'webhook.test', attempt: 1, outcome: 'delivered' })]);
  });

  // Not concurrent: the constraint it adds refuses every other test's secret.created audit row too.
  it('delivers nothing for a write that rolls back, even after its event was enqueued', async () => {
    const { project, path: hookPath, webhook } = await setUp({ events: ['secret.created'] });
    // The event is enqueued in the write's transaction before its audit row; refusing the audit row
    // rolls the whole transaction back (DESIGN.md §5, fail closed), the job with it.
    await ctx.db.query(`ALTER TABLE audit_events ADD CONSTRAINT refuse_for_webhook_test CHECK (action <> 'secret.created') NOT VALID`);
    try {
      const res = await ctx.api.put(path(project), { key: 'ROLLED_BACK', value: 'v' }, as);
      expect(res.status).toBe(500);
    } finally {
      await ctx.db.query('ALTER TABLE audit_events DROP CONSTRAINT refuse_for_webhook_test');
    }
    expect(await jobsFor(webhook.id)).toBe(0);

    await setSecret(ctx.api, as, team.org, project, 'development', { key: 'COMMITTED', value: 'v' });
    const received = await receiver.waitFor(hookPath, 1);
    expect(received.map((r) => json(r).key)).toEqual(['COMMITTED']);
    expect(await jobsFor(webhook.id)).toBe(1);
  });
});
