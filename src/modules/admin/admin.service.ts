import { queriesOn } from '../../database/queries-on.js';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import type { PageQueryDto } from '../../common/pagination/pagination.dto.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { AuditService } from '../audit/audit.service.js';
import { limitsForApi, PLANS, resolveLimits, sanitizeLimits, type PlanName, type StoredLimits } from '../plans/plan-limits.js';
import { PlansService } from '../plans/plans.service.js';
import { UsersRepository } from '../auth/users.repository.js';
import { InvitesRepository } from '../members/invites.repository.js';
import { OrgsRepository, type OrgWithPlanRow } from '../orgs/orgs.repository.js';
import { ProjectsRepository } from '../projects/projects.repository.js';
import { SecretsRepository } from '../secrets/secrets.repository.js';
import { WebhooksRepository } from '../webhooks/webhooks.repository.js';
import { AdminOrgDetailDto, AdminOrgDto, AdminOrgListDto, AdminStatsDto, PlanDto, PlanListDto, UpdateOrgPlanDto, UpdatePlanConfigDto } from './admin.dto.js';
import { AdminOrgNotFoundError, PlanNotFoundError } from './admin.errors.js';

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
    private readonly users: UsersRepository,
    private readonly orgs: OrgsRepository,
    private readonly projects: ProjectsRepository,
    private readonly secrets: SecretsRepository,
    private readonly invites: InvitesRepository,
    private readonly webhooks: WebhooksRepository,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async stats(): Promise<AdminStatsDto> {
    const em = this.db.manager;
    const [users, orgs, projects, secrets] = await Promise.all([this.users.count(), this.orgs.count(), this.projects.count(), this.secrets.countAllSet(em)]);
    return { users, orgs, projects, secrets };
  }

  async listOrgs(query: PageQueryDto): Promise<AdminOrgListDto> {
    const offset = query.offset ?? 0;
    const orgs = await this.withUsage(this.db.manager, await this.orgs.page(this.db.manager, query.limit ?? null, offset));
    if (query.limit === undefined) return { orgs };
    return { orgs, pagination: { limit: query.limit, offset, total: await this.orgs.count() } };
  }

  async getOrg(orgId: string, em: EntityManager = this.db.manager): Promise<AdminOrgDetailDto> {
    const [row] = await this.orgs.page(em, 1, 0, orgId);
    if (!row) throw new AdminOrgNotFoundError(orgId);
    const [org] = await this.withUsage(em, [row]);
    const { limits } = await this.plans.effectiveLimits(orgId, em);
    return { ...org, limitOverrides: sanitizeLimits(row.limitOverrides), limits: limitsForApi(limits) };
  }

  async updateOrg(actor: Actor, orgId: string, dto: UpdateOrgPlanDto, meta: RequestMeta): Promise<AdminOrgDetailDto> {
    return this.db.transaction(async (em) => {
      // The row lock queues this behind (and ahead of) other plan changes of the org.
      const before = await this.orgs.lockPlan(em, orgId);
      if (!before) throw new AdminOrgNotFoundError(orgId);
      const plan = dto.plan === undefined ? before.plan : dto.plan;
      const overrides = dto.limitOverrides === undefined ? sanitizeLimits(before.limitOverrides) : sanitizeLimits(dto.limitOverrides);
      await this.orgs.setPlan(em, orgId, plan, overrides);
      // Data over a lowered limit is kept: the org just cannot create more until it is back under.
      await this.audit.record(em, {
        action: 'admin.org_plan_updated',
        orgId,
        actor,
        meta,
        metadata: { before: { plan: before.plan, limitOverrides: sanitizeLimits(before.limitOverrides) }, after: { plan, limitOverrides: overrides } },
      });
      return this.getOrg(orgId, em);
    });
  }

  async listPlans(): Promise<PlanListDto> {
    const configs = await this.plans.planConfigs();
    return { plans: PLANS.map((name) => this.toPlanDto(name, configs.get(name) ?? {})) };
  }

  async updatePlan(actor: Actor, planName: string, dto: UpdatePlanConfigDto, meta: RequestMeta): Promise<PlanDto> {
    if (!(PLANS as readonly string[]).includes(planName)) throw new PlanNotFoundError(planName);
    const name = planName as PlanName;
    const limits = sanitizeLimits(dto.limits);
    return this.db.transaction(async (em) => {
      const before = await this.plans.replacePlanConfig(em, name, limits);
      await this.audit.record(em, {
        action: 'admin.plan_config_updated',
        orgId: null,
        actor,
        meta,
        metadata: { plan: name, before, after: limits },
      });
      return this.toPlanDto(name, limits);
    });
  }

  /** Each org with its usage, counted by the module that owns what is counted. */
  private async withUsage(em: EntityManager, rows: OrgWithPlanRow[]): Promise<AdminOrgDto[]> {
    const ids = rows.map((r) => r.id);
    // `em` is a transaction's after a plan change (updateOrg): queriesOn runs the counts one by one there.
    const [projectOrgs, members, invites, webhooks] = await queriesOn(em, [
      () => this.projects.projectOrgs(em, ids),
      () => this.orgs.countMembersByOrg(em, ids),
      () => this.invites.countPendingByOrg(em, ids),
      () => this.webhooks.countByOrg(em, ids),
    ] as const);
    const secretsByProject = await this.secrets.countSetByProject(em, [...projectOrgs.keys()]);
    const projects = new Map<string, number>();
    const secrets = new Map<string, number>();
    for (const [projectId, orgId] of projectOrgs) {
      projects.set(orgId, (projects.get(orgId) ?? 0) + 1);
      secrets.set(orgId, (secrets.get(orgId) ?? 0) + (secretsByProject.get(projectId) ?? 0));
    }
    return rows.map((r) => ({
      id: r.id,
      slug: r.slug,
      name: r.name,
      plan: r.plan,
      effectivePlan: r.plan ?? this.config.defaultPlan,
      usage: {
        projects: projects.get(r.id) ?? 0,
        members: members.get(r.id) ?? 0,
        pendingInvites: invites.get(r.id) ?? 0,
        webhooks: webhooks.get(r.id) ?? 0,
        secrets: secrets.get(r.id) ?? 0,
      },
      createdAt: r.createdAt,
    }));
  }

  private toPlanDto(name: PlanName, config: StoredLimits): PlanDto {
    return { name, isDefault: name === this.config.defaultPlan, config, limits: limitsForApi(resolveLimits(name, config, {})) };
  }
}
