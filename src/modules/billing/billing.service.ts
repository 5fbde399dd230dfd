import { Inject, Injectable } from '@nestjs/common';
import type Stripe from 'stripe';
import { DataSource } from 'typeorm';
import type { RequestMeta } from '../auth/request-context.js';
import { BadRequestError, NotFoundError } from '../../common/errors/domain-error.js';
import { UUID_PATTERN } from '../../common/validation/parse-uuid.pipe.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { AuditService } from '../audit/audit.service.js';
import { limitsForApi, type PlanName } from '../plans/plan-limits.js';
import { PlansService } from '../plans/plans.service.js';
import { MembersUsage } from '../members/members-usage.js';
import { OrgsRepository, type OrgStripeRow } from '../orgs/orgs.repository.js';
import { ProjectsRepository } from '../projects/projects.repository.js';
import { WebhooksRepository } from '../webhooks/webhooks.repository.js';
import type { BillingStatusDto, BillingUrlDto, PaidPlan, WebhookReceivedDto } from './billing.dto.js';
import { BillingNotConfiguredError, BillingUnavailableError, stripeErrorType } from './billing.errors.js';

/** Seconds a signed webhook stays acceptable (Stripe's default): older timestamps are replays. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** Subscription statuses under which the paid plan applies; any other (but PENDING_STATUSES) falls back to DEFAULT_PLAN. */
const LIVE_STATUSES = new Set(['active', 'trialing', 'past_due']);
/**
 * Not paid yet (the first invoice is open): the plan stays as it is, so a late `created` event cannot
 * undo the checkout completion that arrived before it.
 */
const PENDING_STATUSES = new Set(['incomplete']);

/** What the webhook reads of an org, under its row lock. */
interface BillingChange {
  orgId: string | null;
  customerId: string | null;
  /** undefined: the event leaves the plan as it is; null: back to DEFAULT_PLAN. */
  plan: PlanName | null | undefined;
  subscriptionId: string | null;
  subscriptionCreatedAt: Date;
  status: string | null;
  periodEnd: Date | null;
  /** When Stripe created the event. */
  eventAt: Date;
}

/**
 * Whether an event arrived too late to change the org: Stripe does not promise delivery order.
 * - An event created before the newest one applied is stale. (`created` has a resolution of one
 *   second: events of the same second apply in arrival order.)
 * - Another subscription than the org's takes over only if it is live on a plan and was created after
 *   the org's: the end, unpaid start or later update of a subscription the org has since replaced
 *   (say, the old plan cancelled after buying the new one) does not touch the one it pays for now.
 * - A not-yet-paid status does not overwrite a live one of the same subscription.
 */
function supersededFor(org: OrgStripeRow, change: BillingChange): boolean {
  if (org.stripe_event_at && change.eventAt < org.stripe_event_at) return true;
  if (change.subscriptionId && org.stripe_subscription_id && change.subscriptionId !== org.stripe_subscription_id) {
    const olderThanCurrent = org.stripe_subscription_created_at !== null && change.subscriptionCreatedAt < org.stripe_subscription_created_at;
    return !change.plan || olderThanCurrent;
  }
  return change.status !== null && PENDING_STATUSES.has(change.status) && org.subscription_status !== null && LIVE_STATUSES.has(org.subscription_status);
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Stripe billing: one customer per org, hosted Checkout and Customer Portal, and the webhook that
 * sets an org's plan. The webhook is the only writer of the plan from Stripe's side; it is idempotent
 * by event id (stripe_events) and audits every plan change. A downgrade only changes the plan: data
 * over the new limits stays, the org just cannot create more.
 */
@Injectable()
export class BillingService {
  /**
   * The Stripe client, made on first use: the SDK is imported then, not at start-up (it is a quarter of
   * a second of a boot's CPU, and most installs and requests never use it).
   */
  private stripe?: Promise<Stripe>;
  /** Only for signature checks, which need no API key. */
  private verifier?: Promise<Stripe>;

  constructor(
    private readonly db: DataSource,
    private readonly plans: PlansService,
    private readonly audit: AuditService,
    private readonly orgs: OrgsRepository,
    private readonly projects: ProjectsRepository,
    private readonly members: MembersUsage,
    private readonly webhooks: WebhooksRepository,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async status(orgId: string): Promise<BillingStatusDto> {
    const row = await this.orgs.billingOf(orgId);
    if (!row) throw new NotFoundError('Organization not found');
    const em = this.db.manager;
    const [{ plan, planIsDefault, limits }, projects, members, webhooks] = await Promise.all([
      this.plans.effectiveLimits(orgId),
      this.projects.countInOrg(em, orgId),
      this.members.count(em, orgId),
      this.webhooks.countInOrg(em, orgId),
    ]);
    return {
      orgId,
      plan,
      planIsDefault,
      subscriptionStatus: row.subscription_status,
      currentPeriodEnd: row.current_period_end ? row.current_period_end.toISOString() : null,
      billingConfigured: Boolean(this.config.stripe.secretKey),
      usage: { projects, members, webhooks },
      limits: limitsForApi(limits),
    };
  }

  async checkout(orgId: string, plan: PaidPlan): Promise<BillingUrlDto> {
    if (!this.config.stripe.secretKey) throw new BillingNotConfiguredError();
    const price = plan === 'pro' ? this.config.stripe.pricePro : this.config.stripe.priceTeam;
    if (!price) throw new BillingNotConfiguredError(`No Stripe price is configured for the '${plan}' plan (STRIPE_PRICE_${plan.toUpperCase()})`);
    const stripe = await this.requireStripe();
    const customer = await this.customerFor(stripe, orgId);
    const base = this.config.publicUrl;
    const session = await callStripe(() =>
      stripe.checkout.sessions.create({
        mode: 'subscription',
        customer,
        client_reference_id: orgId,
        line_items: [{ price, quantity: 1 }],
        metadata: { orgId, plan },
        subscription_data: { metadata: { orgId, plan } },
        success_url: `${base}/billing/success?session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${base}/billing/cancel`,
      }),
    );
    if (!session.url) throw new BadRequestError('Stripe returned a checkout session without a URL');
    return { url: session.url };
  }

  async portal(orgId: string): Promise<BillingUrlDto> {
    const stripe = await this.requireStripe();
    const customer = await this.customerFor(stripe, orgId);
    const session = await callStripe(() => stripe.billingPortal.sessions.create({ customer, return_url: `${this.config.publicUrl}/billing` }));
    return { url: session.url };
  }

  /**
   * Verifies the signature over the raw body, then applies the event once: the event id goes into
   * stripe_events in the same transaction as the plan change, so a replay (or a concurrent
   * re-delivery) finds it there and changes nothing.
   */
  async handleWebhook(rawBody: Buffer | undefined, signature: string | undefined, meta: RequestMeta): Promise<WebhookReceivedDto> {
    if (!signature) throw new BadRequestError('Missing Stripe-Signature header');
    const secret = this.config.stripe.webhookSecret;
    if (!secret) throw new BillingNotConfiguredError('The Stripe webhook is not configured on this server (STRIPE_WEBHOOK_SECRET is not set)');
    if (!rawBody) throw new BadRequestError('Missing request body');
    const verifier = await (this.verifier ??= loadStripe().then((StripeClient) => new StripeClient('sk_unused')));
    let event: Json;
    try {
      event = verifier.webhooks.constructEvent(rawBody, signature, secret, WEBHOOK_TOLERANCE_SECONDS) as unknown as Json;
    } catch {
      throw new BadRequestError('Invalid Stripe signature, or its timestamp is outside the tolerance');
    }
    return this.db.transaction(async (em) => {
      const inserted = await em.query('INSERT INTO stripe_events (id, type) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id', [event.id, event.type]);
      if (inserted.length === 0) return { received: true, duplicate: true };
      const change = this.changeOf(event);
      if (!change) return { received: true, duplicate: false };
      // The customer id is ours (one per org); the org id in the metadata is only a fallback.
      let org = change.customerId ? await this.orgs.lockForStripe(em, { customerId: change.customerId }) : null;
      if (!org && change.orgId && UUID_PATTERN.test(change.orgId)) {
        org = await this.orgs.lockForStripe(em, { orgId: change.orgId, customerId: change.customerId });
      }
      if (!org || supersededFor(org, change)) return { received: true, duplicate: false };
      const plan = change.plan === undefined ? org.plan : change.plan;
      const switched = change.subscriptionId !== org.stripe_subscription_id;
      await this.orgs.applySubscription(em, org.id, {
        plan,
        customerId: change.customerId,
        subscriptionId: change.subscriptionId,
        status: change.status,
        periodEnd: change.periodEnd,
        eventAt: change.eventAt,
        switched,
        subscriptionCreatedAt: change.subscriptionCreatedAt,
      });
      if (plan !== org.plan) {
        await this.audit.record(em, {
          action: 'billing.plan_changed',
          orgId: org.id,
          actor: null,
          meta,
          metadata: { before: org.plan, after: plan, stripeEventId: event.id, stripeEventType: event.type, subscriptionStatus: change.status },
        });
      }
      return { received: true, duplicate: false };
    });
  }

  /** What a Stripe event says about an org's subscription; null for events that say nothing. */
  private changeOf(event: Json): BillingChange | null {
    const object: Json = event.data?.object ?? {};
    const eventAt = typeof event.created === 'number' ? new Date(event.created * 1000) : new Date();
    switch (event.type) {
      case 'checkout.session.completed': {
        const plan = object.metadata?.plan;
        if (object.mode !== 'subscription' || (plan !== 'pro' && plan !== 'team')) return null;
        return {
          orgId: object.client_reference_id ?? object.metadata?.orgId ?? null,
          customerId: idOf(object.customer),
          plan,
          subscriptionId: idOf(object.subscription),
          // The session names its subscription but not when it was created: just before it completed.
          subscriptionCreatedAt: eventAt,
          status: 'active',
          periodEnd: null,
          eventAt,
        };
      }
      case 'customer.subscription.created':
      case 'customer.subscription.updated':
      case 'customer.subscription.deleted': {
        const deleted = event.type === 'customer.subscription.deleted';
        const item: Json | undefined = object.items?.data?.[0];
        const mapped = this.planForPrice(idOf(item?.price));
        const status: string | null = deleted ? 'canceled' : (object.status ?? null);
        // A live subscription to an unknown price leaves the plan alone (undefined); a dead one ends it (null).
        const pending = !deleted && status !== null && PENDING_STATUSES.has(status);
        const plan = pending ? undefined : deleted || !status || !LIVE_STATUSES.has(status) ? null : (mapped ?? undefined);
        const end = item?.current_period_end ?? object.current_period_end;
        return {
          orgId: object.metadata?.orgId ?? null,
          customerId: idOf(object.customer),
          plan,
          subscriptionId: object.id ?? null,
          subscriptionCreatedAt: typeof object.created === 'number' ? new Date(object.created * 1000) : eventAt,
          status,
          periodEnd: typeof end === 'number' ? new Date(end * 1000) : null,
          eventAt,
        };
      }
      default:
        return null;
    }
  }

  private requireStripe(): Promise<Stripe> {
    const { secretKey, apiUrl } = this.config.stripe;
    if (!secretKey) throw new BillingNotConfiguredError();
    this.stripe ??= loadStripe().then((StripeClient) => {
      // Bounded well inside the database's idle-in-transaction limit: customerFor holds the org's row lock across the call.
      const timeout = this.config.stripe.timeoutMs;
      if (!apiUrl) return new StripeClient(secretKey, { timeout });
      const url = new URL(apiUrl);
      const protocol = url.protocol === 'http:' ? 'http' : 'https';
      return new StripeClient(secretKey, {
        host: url.hostname,
        port: Number(url.port || (protocol === 'http' ? 80 : 443)),
        protocol,
        maxNetworkRetries: 0,
        timeout,
      });
    });
    return this.stripe;
  }

  private planForPrice(priceId: string | null): PlanName | null {
    if (!priceId) return null;
    if (priceId === this.config.stripe.pricePro) return 'pro';
    if (priceId === this.config.stripe.priceTeam) return 'team';
    return null;
  }

  /**
   * The org's Stripe customer, created on first use. The org row lock makes it one per org; it is held
   * across the call to Stripe, so it is NO KEY: inserts of rows that reference the org (audit rows of
   * pulls, written for many orgs at once) do not wait for Stripe.
   */
  private async customerFor(stripe: Stripe, orgId: string): Promise<string> {
    return this.db.transaction(async (em) => {
      const org = await this.orgs.lockCustomer(em, orgId);
      if (!org) throw new NotFoundError('Organization not found');
      if (org.stripe_customer_id) return org.stripe_customer_id;
      const customer = await callStripe(() =>
        stripe.customers.create({ name: org.name, metadata: { orgId, orgSlug: org.slug } }, { idempotencyKey: `secr-org-customer-${orgId}` }),
      );
      await this.orgs.setCustomer(em, orgId, customer.id);
      return customer.id;
    });
  }
}

/** A call to Stripe whose failure (time-out, connection, Stripe's own error) answers 503 `billing_unavailable`, not 500. */
async function callStripe<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const type = stripeErrorType(error);
    if (type) throw new BillingUnavailableError(type);
    throw error;
  }
}

const loadStripe = async (): Promise<typeof Stripe> => (await import('stripe')).default;

function idOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as Json).id === 'string') return (value as Json).id;
  return null;
}
