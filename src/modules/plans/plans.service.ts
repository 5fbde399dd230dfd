import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { resolveLimits, sanitizeLimits, type EffectiveLimits, type LimitName, type PlanName, type StoredLimits } from './plan-limits.js';
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
 * first and this one last, in every path, so lock orders agree and cannot deadlock.
 */
@Injectable()
export class PlansService {
  constructor(
    private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async effectiveLimits(orgId: string, em: EntityManager = this.db.manager): Promise<OrgLimits> {
    const [row]: Array<{ plan: PlanName | null; limit_overrides: unknown; config_limits: unknown }> = await em.query(
      `SELECT o.plan, o.limit_overrides, pc.limits AS config_limits
         FROM orgs o LEFT JOIN plan_configs pc ON pc.plan_name = coalesce(o.plan, $2)
        WHERE o.id = $1`,
      [orgId, this.config.defaultPlan],
    );
    const plan = row?.plan ?? this.config.defaultPlan;
    return {
      plan,
      planIsDefault: !row?.plan,
      limits: resolveLimits(plan, sanitizeLimits(row?.config_limits), sanitizeLimits(row?.limit_overrides)),
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
    const orgs: Array<{ org_id: string }> = await em.query('SELECT org_id FROM memberships WHERE user_id = $1', [userId]);
    let best: { plan: PlanName; max: number } | undefined;
    for (const { org_id } of orgs) {
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

  private async enforce(em: EntityManager, plan: PlanName, max: number, check: LimitCheck): Promise<void> {
    if (max === Infinity) return;
    await em.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [`secr:limit:${check.limit}`, check.scopeId]);
    const adding = typeof check.adding === 'number' ? check.adding : await check.adding(em);
    if (adding <= 0) return;
    const usage = await check.usage(em);
    if (usage + adding > max) throw new PlanLimitExceededError(check.limit, max, usage, plan);
  }
}
