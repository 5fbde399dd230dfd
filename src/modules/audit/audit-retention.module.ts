import { Module } from '@nestjs/common';
import { PlansModule } from '../plans/plans.module.js';
import { AuditRetention } from './audit-retention.service.js';
import { AuditRetentionController } from './audit-retention.controller.js';
import { AuditSettings } from './audit-settings.service.js';
import { AuditModule } from './audit.module.js';

/**
 * Audit retention (its setting and the batch job). Apart from AuditModule because it reads plan limits:
 * PlansModule imports OrgsModule, which imports AuditModule.
 */
@Module({
  imports: [AuditModule, PlansModule],
  controllers: [AuditRetentionController],
  providers: [AuditRetention, AuditSettings],
  exports: [AuditRetention],
})
export class AuditRetentionModule {}
