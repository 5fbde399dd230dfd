import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import { startTestContext, type TestContext } from './support/test-app.js';

const WEBHOOK_SECRET = 'whsec_test_signed_input';
const stripe = new Stripe('sk_test_unused');

/**
 * The input checks refuse NUL and lone surrogates in every body (input-checks.ts), but not in a body its
 * sender signs: Stripe resends a refused event for days, so an event with an odd character in a field we
 * never store is judged by its signature alone.
 */
describe('a signed Stripe event with text the input checks would refuse', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext({ STRIPE_SECRET_KEY: 'sk_test_secr', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
  });
  afterAll(() => ctx.close());

  const event = {
    id: `evt_nul_${Date.now()}`,
    object: 'event',
    api_version: '2025-01-01',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    type: 'customer.updated',
    data: { object: { id: 'cus_1', object: 'customer', description: 'a\u0000b \ud800' } },
  };

  it('is accepted when its signature is right', async () => {
    const body = JSON.stringify(event);
    const signature = stripe.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET });
    const res = await ctx.api.request('POST', '/v1/billing/webhook', { rawBody: body, headers: { 'stripe-signature': signature } });
    expect(res.status).toBe(200);
  });

  it('is refused with 400 when it is not signed', async () => {
    const res = await ctx.api.request('POST', '/v1/billing/webhook', { rawBody: JSON.stringify(event), headers: { 'stripe-signature': 't=1,v1=00' } });
    expect([res.status, res.body.code]).toEqual([400, 'bad_request']);
  });
});
