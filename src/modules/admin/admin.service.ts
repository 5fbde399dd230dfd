import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import type { PageQueryDto } from '../../common/pagination/pagination.dto.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { AuditService } from '../audit/audit.service.js';
import { limitsForApi, PLANS, resolveLimits, sanitizeLimits, type PlanName, type StoredLimits } from '../plans/plan-limits.js';
import { PlansService } from '../plans/plans.service.js';
import { AdminOrgDetailDto, AdminOrgDto, AdminOrgListDto, AdminStatsDto, PlanDto, PlanListDto, UpdateOrgPlanDto, UpdatePlanConfigDto } from './admin.dto.js';
import { AdminOrgNotFoundError, PlanNotFoundError } from './admin.errors.js';

interface OrgRow {
  id: string;
  slug: string;
  name: string;
  plan: PlanName | null;
  limit_overrides: unknown;
  created_at: Date;
  projects: number;
  members: number;
  pending_invites: number;
  webhooks: number;
  secrets: number;
}

const ORG_WITH_USAGE = `
  SELECT o.id, o.slug, o.name, o.plan, o.limit_overrides, o.created_at,
         (SELECT count(*)::int FROM projects p WHERE p.org_id = o.id) AS projects,
         (SELECT count(*)::int FROM memberships m WHERE m.org_id = o.id) AS members,
         (SELECT count(*)::int FROM org_invites i
           WHERE i.org_id = o.id AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now()) AS pending_invites,
         (SELECT count(*)::int FROM webhooks w WHERE w.org_id = o.id) AS webhooks,
         (SELECT count(*)::int FROM secrets s JOIN projects p ON p.id = s.project_id
           WHERE p.org_id = o.id AND s.deleted_at IS NULL) AS secrets
    FROM orgs o`;

/**
 * The instance administrators' console (users with isAdmin; the guard checks): counts, orgs with their
 * usage and effective limits, and the run-time plan configuration. Every change is audited in its
 * transaction — against the org where there is one.
 */
@Injectable()
export class AdminService {
  constructor(
    private readonly db: DataSource,
    private readonly plans: PlansService,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async stats(): Promise<AdminStatsDto> {
    const [row] = await this.db.query(`
      SELECT (SELECT count(*)::int FROM users) AS users,
             (SELECT count(*)::int FROM orgs) AS orgs,
             (SELECT count(*)::int FROM projects) AS projects,
             (SELECT count(*)::int FROM secrets WHERE deleted_at IS NULL) AS secrets`);
    return row;
  }

  async listOrgs(query: PageQueryDto): Promise<AdminOrgListDto> {
    const offset = query.offset ?? 0;
    const rows: OrgRow[] = await this.db.query(`${ORG_WITH_USAGE} ORDER BY o.created_at, o.id LIMIT $1 OFFSET $2`, [query.limit ?? null, offset]);
    const orgs = rows.map((r) => this.toOrgDto(r));
    if (query.limit === undefined) return { orgs };
    const [{ n }] = await this.db.query('SELECT count(*)::int AS n FROM orgs');
    return { orgs, pagination: { limit: query.limit, offset, total: n } };
  }

  async getOrg(orgId: string, em: EntityManager = this.db.manager): Promise<AdminOrgDetailDto> {
    const [row]: OrgRow[] = await em.query(`${ORG_WITH_USAGE} WHERE o.id = $1`, [orgId]);
    if (!row) throw new AdminOrgNotFoundError(orgId);
    const { limits } = await this.plans.effectiveLimits(orgId, em);
    return { ...this.toOrgDto(row), limitOverrides: sanitizeLimits(row.limit_overrides), limits: limitsForApi(limits) };
  }

  async updateOrg(actor: Actor, orgId: string, dto: UpdateOrgPlanDto, meta: RequestMeta): Promise<AdminOrgDetailDto> {
    return this.db.transaction(async (em) => {
      // The row lock queues this behind (and ahead of) other plan changes of the org. NO KEY: rows that
      // reference the org (every pull's audit row) need not wait for it.
      const [before]: Array<{ plan: PlanName | null; limit_overrides: unknown }> = await em.query(
        'SELECT plan, limit_overrides FROM orgs WHERE id = $1 FOR NO KEY UPDATE',
        [orgId],
      );
      if (!before) throw new AdminOrgNotFoundError(orgId);
      const plan = dto.plan === undefined ? before.plan : dto.plan;
      const overrides = dto.limitOverrides === undefined ? sanitizeLimits(before.limit_overrides) : sanitizeLimits(dto.limitOverrides);
      await em.query('UPDATE orgs SET plan = $2, limit_overrides = $3 WHERE id = $1', [orgId, plan, JSON.stringify(overrides)]);
      // Data over a lowered limit is kept: the org just cannot create more until it is back under.
      await this.audit.record(em, {
        action: 'admin.org_plan_updated',
        orgId,
        actor,
        meta,
        metadata: { before: { plan: before.plan, limitOverrides: sanitizeLimits(before.limit_overrides) }, after: { plan, limitOverrides: overrides } },
      });
      return this.getOrg(orgId, em);
    });
  }

  async listPlans(): Promise<PlanListDto> {
    const rows: Array<{ plan_name: PlanName; limits: unknown }> = await this.db.query('SELECT plan_name, limits FROM plan_configs');
    const configs = new Map(rows.map((r) => [r.plan_name, sanitizeLimits(r.limits)]));
    return { plans: PLANS.map((name) => this.toPlanDto(name, configs.get(name) ?? {})) };
  }

  async updatePlan(actor: Actor, planName: string, dto: UpdatePlanConfigDto, meta: RequestMeta): Promise<PlanDto> {
    if (!(PLANS as readonly string[]).includes(planName)) throw new PlanNotFoundError(planName);
    const name = planName as PlanName;
    const limits = sanitizeLimits(dto.limits);
    return this.db.transaction(async (em) => {
      const [before] = await em.query('SELECT limits FROM plan_configs WHERE plan_name = $1 FOR UPDATE', [name]);
      await em.query(
        `INSERT INTO plan_configs (plan_name, limits) VALUES ($1, $2)
         ON CONFLICT (plan_name) DO UPDATE SET limits = EXCLUDED.limits, updated_at = now()`,
        [name, JSON.stringify(limits)],
      );
      await this.audit.record(em, {
        action: 'admin.plan_config_updated',
        orgId: null,
        actor,
        meta,
        metadata: { plan: name, before: sanitizeLimits(before?.limits), after: limits },
      });
      return this.toPlanDto(name, limits);
    });
  }

  private toOrgDto(r: OrgRow): AdminOrgDto {
    return {
      id: r.id,
      slug: r.slug,
      name: r.name,
      plan: r.plan,
      effectivePlan: r.plan ?? this.config.defaultPlan,
      usage: { projects: r.projects, members: r.members, pendingInvites: r.pending_invites, webhooks: r.webhooks, secrets: r.secrets },
      createdAt: r.created_at,
    };
  }

  private toPlanDto(name: PlanName, config: StoredLimits): PlanDto {
    return { name, isDefault: name === this.config.defaultPlan, config, limits: limitsForApi(resolveLimits(name, config, {})) };
  }
}
