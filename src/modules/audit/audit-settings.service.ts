import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CONFIG, type AppConfig } from '../../config/config.js';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import { PlansService } from '../plans/plans.service.js';
import type { AuditRetentionDto } from './audit.dto.js';
import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';

/**
 * An org's audit settings: its retention period (AuditRetention applies it). The period in force is the
 * org's own (PUT …/retention), else its plan's (`auditRetentionDays`: org override → plan_configs →
 * PLAN_LIMITS, as every plan limit; unlimited = the plan sets none), else AUDIT_RETENTION_DAYS, else none:
 * rows are kept forever (the self-hosted default: DEFAULT_PLAN is enterprise without Stripe).
 */
@Injectable()
export class AuditSettings {
  constructor(
    private readonly db: DataSource,
    private readonly repo: AuditRepository,
    private readonly audit: AuditService,
    private readonly plans: PlansService,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async retention(orgId: string): Promise<AuditRetentionDto> {
    return this.resolve(orgId, await this.repo.retention(this.db.manager, orgId));
  }

  setRetention(orgId: string, days: number | null, actor: Actor, meta: RequestMeta): Promise<AuditRetentionDto> {
    return this.db.transaction(async (em) => {
      const previous = await this.repo.retention(em, orgId);
      await this.repo.setRetention(em, orgId, days);
      await this.audit.record(em, { action: 'audit.retention_changed', orgId, actor, meta, metadata: { days, previousDays: previous } });
      return this.resolve(orgId, days);
    });
  }

  /** The retention period of every org with its own period or a plan that sets one: what a retention pass applies. */
  async periods(orgIds: string[]): Promise<Map<string, number>> {
    const own = await this.repo.retentionOverrides();
    const periods = new Map<string, number>();
    for (const orgId of orgIds) {
      const { days } = await this.resolve(orgId, own.get(orgId) ?? null);
      if (days !== null) periods.set(orgId, days);
    }
    return periods;
  }

  private async resolve(orgId: string, own: number | null): Promise<AuditRetentionDto> {
    const { plan, limits } = await this.plans.effectiveLimits(orgId);
    const planDays = limits.auditRetentionDays.value === Infinity ? null : limits.auditRetentionDays.value;
    const serverDays = this.config.audit.retentionDays ?? null;
    const [days, source]: [number | null, AuditRetentionDto['source']] =
      own !== null ? [own, 'org'] : planDays !== null ? [planDays, 'plan'] : serverDays !== null ? [serverDays, 'server'] : [null, 'forever'];
    return { days, source, plan, planDays, serverDays };
  }
}
