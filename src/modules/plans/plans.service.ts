import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { resolveLimits, sanitizeLimits, type EffectiveLimits, type LimitName, type PlanName, type StoredLimits } from './plan-limits.js';
import { OrgsRepository } from '../orgs/orgs.repository.js';
import { PlanLimitExceededError } from './plans.errors.js';

export interface OrgLimits {
  readonly plan: PlanName;
  /** `true` when the org has no plan of its own and `DEFAULT_PLAN` applies. */
  readonly planIsDefault: boolean;
  readonly limits: EffectiveLimits;
}

export interface LimitCheck {
  readonly limit: LimitName;
  /** What the limit is counted in (the org, project, environment or user id): the lock is per (limit, scope). */
  readonly scopeId: string;
  /** How many the write would add (a function is called once the lock is held); 0 passes. */
  readonly adding: number | ((em: EntityManager) => Promise<number>);
  /** Current usage, counted after the lock is held. */
  readonly usage: (em: EntityManager) => Promise<number>;
}

/**
 * Effective plan limits (org override → plan_configs → PLAN_LIMITS) and the check every creating route
 * makes inside its transaction. The check takes a transaction-scoped advisory lock on (limit, scope)
 * before counting, so two concurrent creates cannot both take the last free slot — on one instance or
 * many, since the lock lives in Postgres (DESIGN.md §3). Callers take their own row or key locks
 * first and this one after them, in every path, so lock orders agree and cannot deadlock (the one lock
 * after it: a secret write's project reference lock, which nothing holds while waiting for this one).
 */
@Injectable()
export class PlansService {
  constructor(
    private readonly db: DataSource,
    private readonly orgs: OrgsRepository,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async effectiveLimits(orgId: string, em: EntityManager = this.db.manager): Promise<OrgLimits> {
    const org = await this.orgs.planOf(em, orgId);
    const plan = org?.plan ?? this.config.defaultPlan;
    return {
      plan,
      planIsDefault: !org?.plan,
      limits: resolveLimits(plan, org ? await this.planConfig(em, plan) : {}, sanitizeLimits(org?.limitOverrides)),
    };
  }

  /** Throws `PlanLimitExceededError` when usage + adding would pass the org's effective limit. */
  async assertCanAdd(em: EntityManager, orgId: string, check: LimitCheck): Promise<void> {
    if (check.adding === 0) return;
    const { plan, limits } = await this.effectiveLimits(orgId, em);
    await this.enforce(em, plan, limits[check.limit].value, check);
  }

  /**
   * Per-user limits (tokens): a user's limit is the most generous among the orgs they belong to,
   * or the default plan's when they belong to none.
   */
  async assertUserCanAdd(em: EntityManager, userId: string, check: LimitCheck): Promise<void> {
    if (check.adding === 0) return;
    let best: { plan: PlanName; max: number } | undefined;
    for (const org_id of await this.orgs.orgIdsOf(em, userId)) {
      const { plan, limits } = await this.effectiveLimits(org_id, em);
      if (!best || limits[check.limit].value > best.max) best = { plan, max: limits[check.limit].value };
    }
    if (!best) {
      const plan = this.config.defaultPlan;
      best = { plan, max: resolveLimits(plan, await this.planConfig(em, plan), {})[check.limit].value };
    }
    await this.enforce(em, best.plan, best.max, check);
  }

  async planConfig(em: EntityManager, plan: PlanName): Promise<StoredLimits> {
    const [row] = await em.query('SELECT limits FROM plan_configs WHERE plan_name = $1', [plan]);
    return sanitizeLimits(row?.limits);
  }

  /** Every plan's stored configuration (plans without one are absent). */
  async planConfigs(): Promise<Map<PlanName, StoredLimits>> {
    const rows: Array<{ plan_name: PlanName; limits: unknown }> = await this.db.query('SELECT plan_name, limits FROM plan_configs');
    return new Map(rows.map((r) => [r.plan_name, sanitizeLimits(r.limits)]));
  }

  /** Replaces a plan's stored configuration; returns the one before, read under a row lock. */
  async replacePlanConfig(em: EntityManager, plan: PlanName, limits: StoredLimits): Promise<StoredLimits> {
    const [before]: Array<{ limits: unknown }> = await em.query('SELECT limits FROM plan_configs WHERE plan_name = $1 FOR UPDATE', [plan]);
    await em.query(
      `INSERT INTO plan_configs (plan_name, limits) VALUES ($1, $2)
       ON CONFLICT (plan_name) DO UPDATE SET limits = EXCLUDED.limits, updated_at = now()`,
      [plan, JSON.stringify(limits)],
    );
    return sanitizeLimits(before?.limits);
  }

  private async enforce(em: EntityManager, plan: PlanName, max: number, check: LimitCheck): Promise<void> {
    if (max === Infinity) return;
    await em.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [`secr:limit:${check.limit}`, check.scopeId]);
    const adding = typeof check.adding === 'number' ? check.adding : await check.adding(em);
    if (adding <= 0) return;
    const usage = await check.usage(em);
    if (usage + adding > max) throw new PlanLimitExceededError(check.limit, max, usage, plan);
  }
}
