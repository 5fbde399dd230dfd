/**
 * Deliveries survive what instances go through (DESIGN.md §3, issue 4 point 7): queued while no
 * instance sends them, they wait in PostgreSQL for the next one; with several instances on one
 * database, each delivery is sent once. And the SSRF rules apply again when a delivery is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTeam, type OrgWithTeam } from './factories/accounts.js';
import { createProject, setSecret, type TestProject } from './factories/vault.js';
import { createWebhook } from './factories/webhooks.js';
import type { Credentials } from './support/http.js';
import { startTestContext, type TestContext } from './support/test-app.js';
import { until } from './support/until.js';
import { hasValidSignature, WebhookReceiver } from './support/webhook-receiver.js';

/** Instances of these tests may deliver to the local receiver; the first one sends nothing. */
const FAST = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_INTERVAL_MS: '500', WEBHOOK_RETRY_BASE_SECONDS: '1', WEBHOOK_TIMEOUT_MS: '2000' };

async function jobStates(ctx: TestContext, webhookId: string): Promise<string[]> {
  const { rows } = await ctx.db.query(`SELECT state::text FROM pgboss.job WHERE data->>'webhookId' = $1 ORDER BY created_on`, [webhookId]);
  return rows.map((r) => r.state);
}

describe('webhook deliveries across restarts and instances', () => {
  let ctx: TestContext;
  let receiver: WebhookReceiver;
  let team: OrgWithTeam;
  let as: Credentials;
  let project: TestProject;

  beforeAll(async () => {
    [ctx, receiver] = await Promise.all([startTestContext({ ...FAST, WEBHOOK_CONCURRENCY: '0' }), WebhookReceiver.start()]);
    team = await createTeam(ctx.api);
    as = { session: team.owner.session };
    project = await createProject(ctx.api, team.owner, team.org);
  });
  afterAll(async () => {
    await ctx.close();
    await receiver.close();
  });

  it('keeps deliveries queued while no instance sends them, and sends them once one starts; drops those of webhooks disabled or deleted meanwhile', async () => {
    const kept = await createWebhook(ctx.api, team.owner, team.org, { url: receiver.url('/kept'), project: project.slug, events: ['secret.created'] });
    const disabled = await createWebhook(ctx.api, team.owner, team.org, { url: receiver.url('/disabled'), project: project.slug, events: ['secret.created'] });
    const deleted = await createWebhook(ctx.api, team.owner, team.org, { url: receiver.url('/deleted'), project: project.slug, events: ['secret.created'] });
    for (const key of ['QUEUED_1', 'QUEUED_2', 'QUEUED_3']) await setSecret(ctx.api, as, team.org, project, 'development', { key, value: 'v' });
    expect(await jobStates(ctx, kept.id)).toEqual(['created', 'created', 'created']);

    expect((await ctx.api.patch(`/v1/webhooks/${team.org.id}/${disabled.id}`, { enabled: false }, as)).status).toBe(200);
    expect((await ctx.api.delete(`/v1/webhooks/${team.org.id}/${deleted.id}`, as)).status).toBe(204);
    // The instance that enqueued them stops, as a deploy or a crash would stop it: the jobs are rows.
    await ctx.instances[0].close();
    ctx.instances.splice(0, 1);
    // No instance is left to send them: they are still the rows the writes enqueued, and nothing arrived.
    expect(await jobStates(ctx, kept.id)).toEqual(['created', 'created', 'created']);
    expect(receiver.received).toHaveLength(0);

    await ctx.startInstance({ WEBHOOK_CONCURRENCY: '2' });
    const received = await receiver.waitFor('/kept', 3);
    expect(received.map((r) => JSON.parse(r.body).key).sort()).toEqual(['QUEUED_1', 'QUEUED_2', 'QUEUED_3']);
    for (const request of received) expect(hasValidSignature(request, kept.secret)).toBe(true);
    await until('the disabled webhook’s jobs to settle', async () => (await jobStates(ctx, disabled.id)).every((s) => s === 'completed'), 10_000);
    await until('the deleted webhook’s jobs to settle', async () => (await jobStates(ctx, deleted.id)).every((s) => s === 'completed'), 10_000);
    expect(receiver.to('/disabled')).toHaveLength(0);
    expect(receiver.to('/deleted')).toHaveLength(0);
  });

  it('sends each delivery exactly once with two sending instances on one database', async () => {
    // Two senders of its own, whatever instances earlier tests left running.
    const [a, b] = (await Promise.all([ctx.startInstance({ WEBHOOK_CONCURRENCY: '2' }), ctx.startInstance({ WEBHOOK_CONCURRENCY: '2' })])).map((i) => i.http);
    const webhook = await createWebhook(a, team.owner, team.org, {
      url: receiver.url('/once'),
      project: project.slug,
      events: ['secret.created', 'secret.updated'],
    });
    const writes = 20;
    for (let i = 0; i < writes; i++) {
      await setSecret(i % 2 ? a : b, as, team.org, project, 'development', { key: `ONCE_${i}`, value: 'v' });
    }
    await receiver.waitFor('/once', writes);
    await until('every job to complete', async () => (await jobStates(ctx, webhook.id)).every((s) => s === 'completed'), 10_000);
    const received = receiver.to('/once');
    expect(received).toHaveLength(writes);
    expect(new Set(received.map((r) => r.headers['x-secr-delivery'])).size).toBe(writes);
    expect(new Set(received.map((r) => JSON.parse(r.body).key)).size).toBe(writes);
    const { rows } = await ctx.db.query(
      `SELECT count(*)::int AS attempts, count(DISTINCT delivery_id)::int AS deliveries, max(attempt) AS last FROM webhook_deliveries WHERE webhook_id = $1`,
      [webhook.id],
    );
    expect(rows[0]).toEqual({ attempts: writes, deliveries: writes, last: 1 });
  });
});

describe('the SSRF check at delivery time', () => {
  let ctx: TestContext;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    // The first instance accepts loopback targets (to create the webhook) but sends nothing.
    [ctx, receiver] = await Promise.all([startTestContext({ ...FAST, WEBHOOK_CONCURRENCY: '0' }), WebhookReceiver.start()]);
  });
  afterAll(async () => {
    await ctx.close();
    await receiver.close();
  });

  it('refuses a target that is no longer allowed when the delivery is sent, without connecting to it', async () => {
    const team = await createTeam(ctx.api);
    const as = { session: team.owner.session };
    const project = await createProject(ctx.api, team.owner, team.org);
    const webhook = await createWebhook(ctx.api, team.owner, team.org, { url: receiver.url('/rebound'), project: project.slug, events: ['secret.created'] });
    // As if its DNS now pointed inside the network: the stored target is an https loopback address.
    await ctx.db.query(`UPDATE webhooks SET url = replace(url, 'http://', 'https://') WHERE id = $1`, [webhook.id]);
    await setSecret(ctx.api, as, team.org, project, 'development', { key: 'REBOUND', value: 'v' });

    await ctx.startInstance({ WEBHOOK_CONCURRENCY: '1', WEBHOOK_ALLOW_PRIVATE: 'false' });
    await until('the job to settle', async () => (await jobStates(ctx, webhook.id)).every((s) => s === 'completed'), 10_000);
    const log = (await ctx.api.get(`/v1/webhooks/${team.org.id}/${webhook.id}`, as)).body.deliveries;
    expect(log).toEqual([expect.objectContaining({ attempt: 1, outcome: 'failed', statusCode: null, error: 'Refused: 127.0.0.1 is a loopback address' })]);
    expect(receiver.received).toHaveLength(0);
  });
});
