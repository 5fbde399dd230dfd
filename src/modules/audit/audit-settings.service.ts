import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CONFIG, type AppConfig } from '../../config/config.js';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import type { AuditRetentionDto } from './audit.dto.js';
import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';

/** An org's audit settings: its retention period (AuditRetention applies it). */
@Injectable()
export class AuditSettings {
  constructor(
    private readonly db: DataSource,
    private readonly repo: AuditRepository,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async retention(orgId: string): Promise<AuditRetentionDto> {
    const own = await this.repo.retention(this.db.manager, orgId);
    return this.shown(own);
  }

  setRetention(orgId: string, days: number | null, actor: Actor, meta: RequestMeta): Promise<AuditRetentionDto> {
    return this.db.transaction(async (em) => {
      const previous = await this.repo.retention(em, orgId);
      await this.repo.setRetention(em, orgId, days);
      await this.audit.record(em, { action: 'audit.retention_changed', orgId, actor, meta, metadata: { days, previousDays: previous } });
      return this.shown(days);
    });
  }

  private shown(own: number | null): AuditRetentionDto {
    const days = own ?? this.config.audit.retentionDays ?? null;
    return { days, source: own !== null ? 'org' : days !== null ? 'server' : 'forever' };
  }
}
