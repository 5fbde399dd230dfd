import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { Role } from '../../common/auth/permissions.js';
import type { PlanName } from '../plans/plan-limits.js';

export interface OrgRow {
  id: string;
  slug: string;
  name: string;
  createdAt: Date;
}

/** An org's own plan (null: DEFAULT_PLAN applies) and its limit overrides, as stored (unsanitised). */
export interface OrgPlanRow {
  plan: PlanName | null;
  limitOverrides: unknown;
}

/** A page of orgs with their plan columns (the admin console). */
export interface OrgWithPlanRow extends OrgRow, OrgPlanRow {}

/** An org's Stripe columns (rows as stored). */
export interface OrgBillingRow {
  id: string;
  plan: PlanName | null;
  stripe_customer_id: string | null;
  subscription_status: string | null;
  current_period_end: Date | null;
}

export interface OrgStripeRow extends Omit<OrgBillingRow, 'current_period_end'> {
  stripe_subscription_id: string | null;
  stripe_subscription_created_at: Date | null;
  /** `created` of the newest Stripe event applied to this org. */
  stripe_event_at: Date | null;
}

/** What a Stripe event sets on its org (BillingService decides it). */
export interface OrgSubscriptionUpdate {
  plan: PlanName | null;
  customerId: string | null;
  subscriptionId: string | null;
  status: string | null;
  periodEnd: Date | null;
  eventAt: Date;
  /** Another subscription than the stored one: its creation time replaces the stored one. */
  switched: boolean;
  subscriptionCreatedAt: Date | null;
}

/**
 * SQL over `orgs` (with its plan and Stripe columns) and `memberships`. Writers pass their
 * transaction's EntityManager. The credential lookups join memberships through `membershipJoin`
 * (orgs.service.ts) in one statement of the auth module.
 */
@Injectable()
export class OrgsRepository {
  constructor(private readonly db: DataSource) {}

  async insert(em: EntityManager, org: { name: string; slug: string }): Promise<OrgRow> {
    const [row]: Array<{ id: string; created_at: Date }> = await em.query('INSERT INTO orgs (name, slug) VALUES ($1, $2) RETURNING id, created_at', [
      org.name,
      org.slug,
    ]);
    return { id: row.id, slug: org.slug, name: org.name, createdAt: row.created_at };
  }

  async slugTaken(em: EntityManager, slug: string): Promise<boolean> {
    const [row]: Array<{ taken: boolean }> = await em.query('SELECT EXISTS (SELECT 1 FROM orgs WHERE slug = $1) AS taken', [slug]);
    return row.taken;
  }

  /**
   * The first step of deleting an org: marks it deleted, frees its slug (a name no live org can have) and
   * removes its memberships, so that no one reaches it any more; OrgPurge deletes the rest in batches.
   * Returns false when it was already deleted.
   */
  async markDeleted(em: EntityManager, id: string): Promise<boolean> {
    const marked: Array<{ id: string }> = await em.query(
      `WITH marked AS (UPDATE orgs SET deleted_at = now(), slug = '~deleted-' || id::text WHERE id = $1 AND deleted_at IS NULL RETURNING id)
       SELECT id FROM marked`,
      [id],
    );
    await em.query('DELETE FROM memberships WHERE org_id = $1', [id]);
    return marked.length === 1;
  }

  /** Orgs marked deleted whose data is still being purged. */
  async deletedIds(): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.db.query('SELECT id FROM orgs WHERE deleted_at IS NOT NULL ORDER BY deleted_at');
    return rows.map((r) => r.id);
  }

  /** The last step of purging an org: the row itself; the schema cascades to what is left (small by then). */
  async delete(id: string): Promise<void> {
    await this.db.query('DELETE FROM orgs WHERE id = $1 AND deleted_at IS NOT NULL', [id]);
  }

  async get(em: EntityManager, id: string): Promise<OrgRow | null> {
    const [row]: Array<{ id: string; slug: string; name: string; created_at: Date }> = await em.query(
      'SELECT id, slug, name, created_at FROM orgs WHERE id = $1',
      [id],
    );
    return row ? { id: row.id, slug: row.slug, name: row.name, createdAt: row.created_at } : null;
  }

  async planOf(em: EntityManager, orgId: string): Promise<OrgPlanRow | null> {
    const [row]: Array<{ plan: PlanName | null; limit_overrides: unknown }> = await em.query('SELECT plan, limit_overrides FROM orgs WHERE id = $1', [orgId]);
    return row ? { plan: row.plan, limitOverrides: row.limit_overrides } : null;
  }

  /**
   * The plan columns, with the row locked against other plan changes until the transaction ends. NO
   * KEY: rows that reference the org (every pull's audit row) need not wait for it.
   */
  async lockPlan(em: EntityManager, orgId: string): Promise<OrgPlanRow | null> {
    const [row]: Array<{ plan: PlanName | null; limit_overrides: unknown }> = await em.query(
      'SELECT plan, limit_overrides FROM orgs WHERE id = $1 FOR NO KEY UPDATE',
      [orgId],
    );
    return row ? { plan: row.plan, limitOverrides: row.limit_overrides } : null;
  }

  async setPlan(em: EntityManager, orgId: string, plan: PlanName | null, limitOverrides: unknown): Promise<void> {
    await em.query('UPDATE orgs SET plan = $2, limit_overrides = $3 WHERE id = $1', [orgId, plan, JSON.stringify(limitOverrides)]);
  }

  /** Orgs by creation, with their plan columns: one page, or all without a limit. */
  async page(em: EntityManager, limit: number | null, offset: number, onlyId?: string): Promise<OrgWithPlanRow[]> {
    const rows: Array<{ id: string; slug: string; name: string; created_at: Date; plan: PlanName | null; limit_overrides: unknown }> = await em.query(
      `SELECT id, slug, name, created_at, plan, limit_overrides FROM orgs
        WHERE deleted_at IS NULL AND ($3::uuid IS NULL OR id = $3) ORDER BY created_at, id LIMIT $1 OFFSET $2`,
      [limit, offset, onlyId ?? null],
    );
    return rows.map((r) => ({ id: r.id, slug: r.slug, name: r.name, createdAt: r.created_at, plan: r.plan, limitOverrides: r.limit_overrides }));
  }

  async count(): Promise<number> {
    const [row]: Array<{ n: number }> = await this.db.query('SELECT count(*)::int AS n FROM orgs WHERE deleted_at IS NULL');
    return row.n;
  }

  // ── memberships ──

  async addMember(em: EntityManager, orgId: string, userId: string, role: Role): Promise<void> {
    await em.query('INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)', [orgId, userId, role]);
  }

  async isMember(em: EntityManager, orgId: string, userId: string): Promise<boolean> {
    const [row]: Array<{ member: boolean }> = await em.query('SELECT EXISTS (SELECT 1 FROM memberships WHERE org_id = $1 AND user_id = $2) AS member', [
      orgId,
      userId,
    ]);
    return row.member;
  }

  async setRole(em: EntityManager, orgId: string, userId: string, role: Role): Promise<void> {
    await em.query('UPDATE memberships SET role = $3 WHERE org_id = $1 AND user_id = $2', [orgId, userId, role]);
  }

  async removeMember(em: EntityManager, orgId: string, userId: string): Promise<void> {
    await em.query('DELETE FROM memberships WHERE org_id = $1 AND user_id = $2', [orgId, userId]);
  }

  /** The role of each (org, user) pair that is a membership, keyed `orgId/userId`: one statement for many. */
  async roles(pairs: ReadonlyArray<{ orgId: string; userId: string }>): Promise<Map<string, Role>> {
    const rows: Array<{ org_id: string; user_id: string; role: Role }> = await this.db.query(
      `SELECT m.org_id, m.user_id, m.role FROM memberships m
         JOIN unnest($1::uuid[], $2::uuid[]) AS p(org_id, user_id) ON p.org_id = m.org_id AND p.user_id = m.user_id`,
      [pairs.map((p) => p.orgId), pairs.map((p) => p.userId)],
    );
    return new Map(rows.map((r) => [`${r.org_id}/${r.user_id}`, r.role]));
  }

  /** Locks the owner rows so that two concurrent demotions cannot both pass the last-owner check. */
  async lockOwners(em: EntityManager, orgId: string): Promise<string[]> {
    const rows: Array<{ user_id: string }> = await em.query(`SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'owner' FOR UPDATE`, [orgId]);
    return rows.map((r) => r.user_id);
  }

  /** The orgs a user belongs to, with their role, oldest first. */
  async orgsOf(userId: string): Promise<Array<OrgRow & { role: Role }>> {
    const rows: Array<{ id: string; slug: string; name: string; role: Role; created_at: Date }> = await this.db.query(
      `SELECT o.id, o.slug, o.name, m.role, o.created_at
         FROM memberships m JOIN orgs o ON o.id = m.org_id
        WHERE m.user_id = $1 ORDER BY o.created_at, o.slug`,
      [userId],
    );
    return rows.map((r) => ({ id: r.id, slug: r.slug, name: r.name, role: r.role, createdAt: r.created_at }));
  }

  async orgIdsOf(em: EntityManager, userId: string): Promise<string[]> {
    const rows: Array<{ org_id: string }> = await em.query('SELECT org_id FROM memberships WHERE user_id = $1', [userId]);
    return rows.map((r) => r.org_id);
  }

  /** Members of the org (part of what membersPerOrg counts). */
  async countMembers(em: EntityManager, orgId: string): Promise<number> {
    const [row]: Array<{ n: number }> = await em.query('SELECT count(*)::int AS n FROM memberships WHERE org_id = $1', [orgId]);
    return row.n;
  }

  async countMembersByOrg(em: EntityManager, orgIds: string[]): Promise<Map<string, number>> {
    const rows: Array<{ org_id: string; n: number }> = await em.query(
      'SELECT org_id, count(*)::int AS n FROM memberships WHERE org_id = ANY($1::uuid[]) GROUP BY org_id',
      [orgIds],
    );
    return new Map(rows.map((r) => [r.org_id, r.n]));
  }

  /** The memberships of the org, by joining date. */
  async members(orgId: string): Promise<MembershipRow[]> {
    const rows: RawMembership[] = await this.db.query(`${SELECT_MEMBERSHIP} WHERE org_id = $1 ORDER BY created_at`, [orgId]);
    return rows.map(toMembership);
  }

  async membership(em: EntityManager, orgId: string, userId: string): Promise<MembershipRow | null> {
    const [row]: RawMembership[] = await em.query(`${SELECT_MEMBERSHIP} WHERE org_id = $1 AND user_id = $2`, [orgId, userId]);
    return row ? toMembership(row) : null;
  }

  // ── Stripe columns ──

  async billingOf(orgId: string): Promise<OrgBillingRow | null> {
    const [row]: OrgBillingRow[] = await this.db.query('SELECT id, plan, stripe_customer_id, subscription_status, current_period_end FROM orgs WHERE id = $1', [
      orgId,
    ]);
    return row ?? null;
  }

  /**
   * The org a Stripe event is about, locked (NO KEY) until the transaction ends: by its customer id, or
   * by its id when it has no customer yet (or the event names none).
   */
  async lockForStripe(em: EntityManager, by: { customerId: string } | { orgId: string; customerId: string | null }): Promise<OrgStripeRow | null> {
    const select = `SELECT id, plan, stripe_customer_id, stripe_subscription_id, stripe_subscription_created_at, subscription_status, stripe_event_at
                      FROM orgs WHERE %s FOR NO KEY UPDATE`;
    const [row]: OrgStripeRow[] =
      'orgId' in by
        ? await em.query(select.replace('%s', 'id = $1 AND (stripe_customer_id IS NULL OR $2::text IS NULL)'), [by.orgId, by.customerId])
        : await em.query(select.replace('%s', 'stripe_customer_id = $1'), [by.customerId]);
    return row ?? null;
  }

  async applySubscription(em: EntityManager, orgId: string, u: OrgSubscriptionUpdate): Promise<void> {
    await em.query(
      `UPDATE orgs SET plan = $2, stripe_customer_id = coalesce(stripe_customer_id, $3), stripe_subscription_id = $4,
                       subscription_status = $5, current_period_end = coalesce($6, current_period_end),
                       stripe_event_at = greatest(stripe_event_at, $7),
                       stripe_subscription_created_at = CASE WHEN $8 THEN $9 ELSE coalesce(stripe_subscription_created_at, $9) END
        WHERE id = $1`,
      [orgId, u.plan, u.customerId, u.subscriptionId, u.status, u.periodEnd, u.eventAt, u.switched, u.subscriptionCreatedAt],
    );
  }

  /**
   * The org's Stripe customer column, locked (NO KEY) until the transaction ends: it is held across a
   * call to Stripe, and rows that reference the org (audit rows of pulls) must not wait for Stripe.
   */
  async lockCustomer(em: EntityManager, orgId: string): Promise<{ id: string; slug: string; name: string; stripe_customer_id: string | null } | null> {
    const [row] = await em.query('SELECT id, slug, name, stripe_customer_id FROM orgs WHERE id = $1 FOR NO KEY UPDATE', [orgId]);
    return row ?? null;
  }

  async setCustomer(em: EntityManager, orgId: string, customerId: string): Promise<void> {
    await em.query('UPDATE orgs SET stripe_customer_id = $2 WHERE id = $1', [orgId, customerId]);
  }
}

export interface MembershipRow {
  userId: string;
  role: Role;
  joinedAt: Date;
}

interface RawMembership {
  user_id: string;
  role: Role;
  created_at: Date;
}

const SELECT_MEMBERSHIP = 'SELECT user_id, role, created_at FROM memberships';

function toMembership(r: RawMembership): MembershipRow {
  return { userId: r.user_id, role: r.role, joinedAt: r.created_at };
}
