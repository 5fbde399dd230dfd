import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import { createOrg, createTeam, registerUser } from './factories/accounts.js';
import { createProject, secretsPath } from './factories/vault.js';
import { FakeStripe } from './support/fake-stripe.js';
import { startTestContext, type TestContext } from './support/test-app.js';

const WEBHOOK_SECRET = 'whsec_test_secret_for_secr';
const PRICE_PRO = 'price_pro_test';
const PRICE_TEAM = 'price_team_test';
/** A server whose billing talks to `fake`. */
const stripeSettings = (fake: FakeStripe) => ({
  DEFAULT_PLAN: 'free',
  STRIPE_SECRET_KEY: 'sk_test_secr',
  STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
  STRIPE_PRICE_PRO: PRICE_PRO,
  STRIPE_PRICE_TEAM: PRICE_TEAM,
  STRIPE_API_URL: fake.url,
});
const stripe = new Stripe('sk_test_unused');

let eventSeq = 0;
/** `createdAgo`: how many seconds before now Stripe created the event. */
function event(type: string, object: Record<string, unknown>, id = `evt_test_${++eventSeq}_${Date.now()}`, createdAgo = 0) {
  return { id, object: 'event', api_version: '2025-01-01', created: Math.floor(Date.now() / 1000) - createdAgo, livemode: false, type, data: { object } };
}

/** `createdAgo`: how many seconds before now the subscription was created. */
function subscription(customer: string, price: string, status: string, orgId?: string, id = 'sub_test_1', createdAgo = 0) {
  const periodEnd = Math.floor(Date.now() / 1000) + 30 * 86400;
  return {
    id,
    created: Math.floor(Date.now() / 1000) - createdAgo,
    object: 'subscription',
    customer,
    status,
    metadata: orgId ? { orgId } : {},
    current_period_end: periodEnd,
    items: { object: 'list', data: [{ id: 'si_1', object: 'subscription_item', price: { id: price, object: 'price' }, current_period_end: periodEnd }] },
  };
}

describe('billing with Stripe', () => {
  let ctx: TestContext;
  let fake: FakeStripe;

  const sendWebhook = (payload: unknown, options: { secret?: string; timestamp?: number; signature?: string } = {}) => {
    const body = JSON.stringify(payload);
    const signature =
      options.signature ?? stripe.webhooks.generateTestHeaderString({ payload: body, secret: options.secret ?? WEBHOOK_SECRET, timestamp: options.timestamp });
    return ctx.api.request('POST', '/v1/billing/webhook', { rawBody: body, headers: { 'stripe-signature': signature } });
  };
  /** Sends an event that must be taken (signature good, not a duplicate), whatever it does to the org. */
  const deliver = async (payload: unknown) => {
    const res = await sendWebhook(payload);
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { received: true, duplicate: false } });
  };
  const planOf = async (orgId: string) => (await ctx.db.query('SELECT plan FROM orgs WHERE id = $1', [orgId])).rows[0].plan;
  /** An org of its own, linked to a Stripe customer of its own as a finished Checkout leaves it. */
  const orgWithCustomer = async (tag: string) => {
    const owner = await registerUser(ctx.api, tag);
    const org = await createOrg(ctx.api, owner, tag);
    const customer = `cus_${tag}_${++eventSeq}`;
    await ctx.db.query('UPDATE orgs SET stripe_customer_id = $2 WHERE id = $1', [org.id, customer]);
    return { owner, org, customer };
  };

  beforeAll(async () => {
    fake = await new FakeStripe().start();
    ctx = await startTestContext(stripeSettings(fake));
  });
  afterAll(async () => {
    await ctx.close();
    await fake.close();
  });

  it('shows the plan, subscription and usage against limits to owners and admins', async () => {
    const team = await createTeam(ctx.api);
    await createProject(ctx.api, team.owner, team.org);
    const res = await ctx.api.get(`/v1/billing/${team.org.id}`, { session: team.admin.session });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      orgId: team.org.id,
      plan: 'free',
      planIsDefault: true,
      subscriptionStatus: null,
      currentPeriodEnd: null,
      billingConfigured: true,
      usage: { projects: 1, members: 4, webhooks: 0 },
      limits: { projectsPerOrg: { value: 3, source: 'default' } },
    });
    expect((await ctx.api.get(`/v1/billing/${team.org.id}`, { session: team.developer.session })).status).toBe(403);
  });

  it('creates one Stripe customer per org and returns Checkout and Portal URLs', async () => {
    const owner = await registerUser(ctx.api, 'checkout');
    const team = { owner, org: await createOrg(ctx.api, owner, 'Checkout') };
    const before = fake.calls.length;
    const calls = () => fake.calls.slice(before);
    const first = await ctx.api.post(`/v1/billing/${team.org.id}/checkout`, { plan: 'pro' }, { session: team.owner.session });
    expect(first.status).toBe(200);
    expect(first.body.url).toMatch(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
    const portal = await ctx.api.post(`/v1/billing/${team.org.id}/portal`, undefined, { session: team.owner.session });
    expect(portal.status).toBe(200);
    expect(portal.body.url).toMatch(/^https:\/\/billing\.stripe\.com\/p\/session\//);
    await ctx.api.post(`/v1/billing/${team.org.id}/checkout`, { plan: 'team' }, { session: team.owner.session });

    expect(calls().filter((c) => c.path === '/v1/customers')).toHaveLength(1);
    const { stripe_customer_id } = (await ctx.db.query('SELECT stripe_customer_id FROM orgs WHERE id = $1', [team.org.id])).rows[0];
    const sessions = calls().filter((c) => c.path === '/v1/checkout/sessions');
    expect(sessions.map((c) => c.form.get('line_items[0][price]'))).toEqual([PRICE_PRO, PRICE_TEAM]);
    for (const c of sessions) {
      expect(c.form.get('customer')).toBe(stripe_customer_id);
      expect(c.form.get('client_reference_id')).toBe(team.org.id);
      expect(c.headers.authorization).toBe('Bearer sk_test_secr');
    }
    expect(
      calls()
        .find((c) => c.path === '/v1/billing_portal/sessions')
        ?.form.get('customer'),
    ).toBe(stripe_customer_id);
  });

  it('keeps serving an org’s pulls while its Stripe customer is being created', async () => {
    const owner = await registerUser(ctx.api, 'slow-stripe');
    const org = await createOrg(ctx.api, owner, 'Slow Stripe');
    const project = await createProject(ctx.api, owner, org);
    const held = fake.hold('/v1/customers');
    const checkout = ctx.api.post(`/v1/billing/${org.id}/checkout`, { plan: 'pro' }, { session: owner.session });
    await held.arrived; // checkout holds the org's row lock while it waits for Stripe
    try {
      // The pull's audit row references the org: it must not wait for the lock, which is held until
      // Stripe answers, and Stripe answers only after the pull has.
      const pull = await ctx.api.get(secretsPath(org, project, 'development'), { session: owner.session });
      expect(pull.status).toBe(200);
    } finally {
      held.release();
    }
    expect((await checkout).status).toBe(200);
  });

  it('refuses checkout for anything but pro or team, and to non-owners', async () => {
    const team = await createTeam(ctx.api);
    for (const plan of ['free', 'enterprise', 'gold']) {
      const res = await ctx.api.post(`/v1/billing/${team.org.id}/checkout`, { plan }, { session: team.owner.session });
      expect(res.status).toBe(400);
    }
    expect((await ctx.api.post(`/v1/billing/${team.org.id}/checkout`, { plan: 'pro' }, { session: team.admin.session })).status).toBe(403);
    expect((await ctx.api.post(`/v1/billing/${team.org.id}/portal`, undefined, { session: team.admin.session })).status).toBe(403);
  });

  it('rejects unsigned, wrongly signed and stale webhooks with 400', async () => {
    const { org } = await orgWithCustomer('unsigned');
    const team = { org };
    const payload = event('checkout.session.completed', {
      id: 'cs_x',
      object: 'checkout.session',
      mode: 'subscription',
      client_reference_id: team.org.id,
      metadata: { plan: 'team' },
    });
    const unsigned = await ctx.api.request('POST', '/v1/billing/webhook', { body: payload });
    expect(unsigned.status).toBe(400);
    expect((await sendWebhook(payload, { secret: 'whsec_wrong' })).status).toBe(400);
    expect((await sendWebhook(payload, { timestamp: Math.floor(Date.now() / 1000) - 3600 })).status).toBe(400);
    expect((await sendWebhook(payload, { signature: 't=1,v1=deadbeef' })).status).toBe(400);
    // The signature covers the exact bytes: re-serialising the same JSON differently breaks it.
    const body = JSON.stringify(payload);
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET });
    const tampered = await ctx.api.request('POST', '/v1/billing/webhook', {
      rawBody: JSON.stringify(payload, null, 2),
      headers: { 'stripe-signature': header },
    });
    expect(tampered.status).toBe(400);
    expect(await planOf(team.org.id)).toBeNull();
  });

  it('sets the plan on checkout completion, is idempotent by event id, and audits the change', async () => {
    const { org, customer } = await orgWithCustomer('completed');
    const team = { org };
    const completed = event('checkout.session.completed', {
      id: 'cs_test_done',
      object: 'checkout.session',
      mode: 'subscription',
      customer,
      subscription: 'sub_test_1',
      client_reference_id: team.org.id,
      metadata: { orgId: team.org.id, plan: 'pro' },
    });
    const res = await sendWebhook(completed);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, duplicate: false });
    expect(await planOf(team.org.id)).toBe('pro');

    // An admin changes the plan in between; replaying the old event must not put it back.
    await ctx.db.query("UPDATE orgs SET plan = 'team' WHERE id = $1", [team.org.id]);
    const replay = await sendWebhook(completed);
    expect(replay.status).toBe(200);
    expect(replay.body.duplicate).toBe(true);
    expect(await planOf(team.org.id)).toBe('team');
    await ctx.db.query("UPDATE orgs SET plan = 'pro' WHERE id = $1", [team.org.id]);

    const { rows } = await ctx.db.query("SELECT org_id, actor_user_id, metadata FROM audit_events WHERE action = 'billing.plan_changed' AND org_id = $1", [
      team.org.id,
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ org_id: team.org.id, actor_user_id: null, metadata: { before: null, after: 'pro', stripeEventId: completed.id } });
  });

  it('follows subscription updates by price id and falls back to the default plan on deletion, keeping the data', async () => {
    const { owner, org, customer } = await orgWithCustomer('follower');
    const team = { owner, org };
    await deliver(
      event('checkout.session.completed', {
        object: 'checkout.session',
        mode: 'subscription',
        customer,
        subscription: 'sub_test_1',
        client_reference_id: org.id,
        metadata: { orgId: org.id, plan: 'pro' },
      }),
    );
    expect(await planOf(org.id)).toBe('pro');
    // A late 'created' event of the still-unpaid subscription does not undo the completed checkout.
    expect((await sendWebhook(event('customer.subscription.created', subscription(customer, PRICE_PRO, 'incomplete')))).status).toBe(200);
    expect(await planOf(team.org.id)).toBe('pro');
    expect((await sendWebhook(event('customer.subscription.updated', subscription(customer, PRICE_TEAM, 'active')))).status).toBe(200);
    expect(await planOf(team.org.id)).toBe('team');
    // Over the free limit of 3 projects while on team.
    for (let i = 0; i < 4; i++) await createProject(ctx.api, team.owner, team.org);
    let status = await ctx.api.get(`/v1/billing/${team.org.id}`, { session: team.owner.session });
    expect(status.body).toMatchObject({ plan: 'team', planIsDefault: false, subscriptionStatus: 'active' });
    expect(Date.parse(status.body.currentPeriodEnd)).toBeGreaterThan(Date.now());

    expect((await sendWebhook(event('customer.subscription.deleted', subscription(customer, PRICE_TEAM, 'canceled')))).status).toBe(200);
    expect(await planOf(team.org.id)).toBeNull();
    status = await ctx.api.get(`/v1/billing/${team.org.id}`, { session: team.owner.session });
    expect(status.body).toMatchObject({ plan: 'free', planIsDefault: true, subscriptionStatus: 'canceled', usage: { projects: 4 } });
    // Downgrades delete nothing; the org just cannot create more.
    const over = await ctx.api.post(`/v1/projects/${team.org.id}`, { name: 'one-too-many', slug: 'one-too-many' }, { session: team.owner.session });
    expect(over.status).toBe(403);
    expect(over.body.code).toBe('plan_limit_exceeded');

    const actions = (
      await ctx.db.query("SELECT metadata FROM audit_events WHERE action = 'billing.plan_changed' AND org_id = $1 ORDER BY created_at", [team.org.id])
    ).rows;
    expect(actions.map((r: { metadata: { after: string | null } }) => r.metadata.after)).toEqual(['pro', 'team', null]);
  });

  it('ignores an event created before the newest one applied (Stripe does not promise order)', async () => {
    const { org, customer } = await orgWithCustomer('ordered');
    const newer = event('customer.subscription.updated', subscription(customer, PRICE_TEAM, 'active', undefined, 'sub_ordered'), undefined, 60);
    const older = event('customer.subscription.updated', subscription(customer, PRICE_PRO, 'active', undefined, 'sub_ordered'), undefined, 120);
    await deliver(newer);
    await deliver(older);
    expect(await planOf(org.id)).toBe('team');
    // A newer event still applies, and a redelivery of the stale one is a duplicate.
    await deliver(event('customer.subscription.updated', subscription(customer, PRICE_PRO, 'active', undefined, 'sub_ordered')));
    expect(await planOf(org.id)).toBe('pro');
    const redelivered = await sendWebhook(older);
    expect({ status: redelivered.status, body: redelivered.body }).toEqual({ status: 200, body: { received: true, duplicate: true } });
  });

  it('does not let the end of a replaced subscription end the current one', async () => {
    const { org, customer } = await orgWithCustomer('switcher');
    await deliver(event('customer.subscription.created', subscription(customer, PRICE_PRO, 'active', undefined, 'sub_first')));
    await deliver(event('customer.subscription.created', subscription(customer, PRICE_TEAM, 'incomplete', undefined, 'sub_second')));
    expect(await ctx.db.query('SELECT plan, stripe_subscription_id FROM orgs WHERE id = $1', [org.id]).then((r) => r.rows[0])).toEqual({
      plan: 'pro',
      stripe_subscription_id: 'sub_first',
    });
    await deliver(event('customer.subscription.updated', subscription(customer, PRICE_TEAM, 'active', undefined, 'sub_second')));
    await deliver(event('customer.subscription.deleted', subscription(customer, PRICE_PRO, 'canceled', undefined, 'sub_first')));
    expect(await ctx.db.query('SELECT plan, stripe_subscription_id FROM orgs WHERE id = $1', [org.id]).then((r) => r.rows[0])).toEqual({
      plan: 'team',
      stripe_subscription_id: 'sub_second',
    });
    // Its own end does end it.
    await deliver(event('customer.subscription.deleted', subscription(customer, PRICE_TEAM, 'canceled', undefined, 'sub_second')));
    expect(await planOf(org.id)).toBeNull();
  });

  it('keeps the newer subscription when the org cancels the one it replaced', async () => {
    const { org, customer } = await orgWithCustomer('upgrader');
    const subA = (status: string) => subscription(customer, PRICE_PRO, status, undefined, 'sub_a', 3600);
    await deliver(event('customer.subscription.created', subA('active')));
    // Buys Team through a second checkout (sub_b), then cancels Pro at the end of its period.
    await deliver(
      event('checkout.session.completed', {
        object: 'checkout.session',
        mode: 'subscription',
        customer,
        subscription: 'sub_b',
        client_reference_id: org.id,
        metadata: { orgId: org.id, plan: 'team' },
      }),
    );
    await deliver(event('customer.subscription.updated', { ...subA('active'), cancel_at_period_end: true }));
    expect(await planOf(org.id)).toBe('team');
    await deliver(event('customer.subscription.deleted', subA('canceled')));
    expect(await ctx.db.query('SELECT plan, stripe_subscription_id FROM orgs WHERE id = $1', [org.id]).then((r) => r.rows[0])).toEqual({
      plan: 'team',
      stripe_subscription_id: 'sub_b',
    });
  });

  it('does not let a late not-yet-paid status overwrite a live one of the same subscription', async () => {
    const { org, customer } = await orgWithCustomer('same-second');
    await deliver(event('customer.subscription.updated', subscription(customer, PRICE_PRO, 'active', undefined, 'sub_same')));
    await deliver(event('customer.subscription.created', subscription(customer, PRICE_PRO, 'incomplete', undefined, 'sub_same')));
    expect(await ctx.db.query('SELECT plan, subscription_status FROM orgs WHERE id = $1', [org.id]).then((r) => r.rows[0])).toEqual({
      plan: 'pro',
      subscription_status: 'active',
    });
  });

  it('finds the org of a subscription by its metadata when the customer is not yet linked, and ignores unknown events', async () => {
    const owner = await registerUser(ctx.api, 'solo');
    const org = await createOrg(ctx.api, owner, 'Solo');
    await deliver(event('customer.subscription.created', subscription('cus_elsewhere', PRICE_PRO, 'trialing', org.id)));
    expect(await planOf(org.id)).toBe('pro');
    await deliver(event('invoice.paid', { id: 'in_1', object: 'invoice' }));
  });
});

describe('billing without Stripe configured', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext({ DEFAULT_PLAN: 'free' });
  });
  afterAll(() => ctx.close());

  it('answers billing mutations with 503 billing_not_configured and still shows the status', async () => {
    const owner = await registerUser(ctx.api, 'owner');
    const org = await createOrg(ctx.api, owner, 'Unbilled');
    for (const [path, body] of [
      [`/v1/billing/${org.id}/checkout`, { plan: 'pro' }],
      [`/v1/billing/${org.id}/portal`, undefined],
    ] as const) {
      const res = await ctx.api.post(path, body, { session: owner.session });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('billing_not_configured');
    }
    const status = await ctx.api.get(`/v1/billing/${org.id}`, { session: owner.session });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ plan: 'free', billingConfigured: false });
    const hook = await ctx.api.request('POST', '/v1/billing/webhook', { body: { id: 'evt_1' }, headers: { 'stripe-signature': 't=1,v1=00' } });
    expect(hook.status).toBe(503);
    expect(hook.body.code).toBe('billing_not_configured');
  });
});

describe('billing when Stripe does not answer', () => {
  let ctx: TestContext;
  let fake: FakeStripe;
  beforeAll(async () => {
    fake = await new FakeStripe().start();
    ctx = await startTestContext({ ...stripeSettings(fake), STRIPE_TIMEOUT_MS: '300' });
  });
  afterAll(async () => {
    await ctx.close();
    await fake.close();
  });

  it('answers 503 billing_unavailable when Stripe stalls past STRIPE_TIMEOUT_MS, keeps nothing, and works once Stripe answers', async () => {
    const owner = await registerUser(ctx.api, 'stalled');
    const org = await createOrg(ctx.api, owner, 'Stalled');
    const held = fake.hold('/v1/customers');
    const res = await ctx.api.post(`/v1/billing/${org.id}/checkout`, { plan: 'pro' }, { session: owner.session });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 503, code: 'billing_unavailable' });
    expect(res.text).not.toContain('sk_test_secr');
    await held.arrived;
    held.release();
    expect((await ctx.db.query('SELECT stripe_customer_id FROM orgs WHERE id = $1', [org.id])).rows[0].stripe_customer_id).toBeNull();
    // The org's row lock went with the failed call: the next checkout creates the customer.
    const again = await ctx.api.post(`/v1/billing/${org.id}/checkout`, { plan: 'pro' }, { session: owner.session });
    expect(again.status).toBe(200);
  });

  it('answers 503 billing_unavailable, not 500, when Stripe answers with an error of its own', async () => {
    const owner = await registerUser(ctx.api, 'refused');
    const org = await createOrg(ctx.api, owner, 'Refused');
    fake.failNext('/v1/checkout/sessions', 500);
    const res = await ctx.api.post(`/v1/billing/${org.id}/checkout`, { plan: 'pro' }, { session: owner.session });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 503, code: 'billing_unavailable' });
    fake.failNext('/v1/billing_portal/sessions', 502);
    const portal = await ctx.api.post(`/v1/billing/${org.id}/portal`, undefined, { session: owner.session });
    expect({ status: portal.status, code: portal.body.code }).toEqual({ status: 503, code: 'billing_unavailable' });
  });
});
