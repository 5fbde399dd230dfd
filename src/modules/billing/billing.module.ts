import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { MembersModule } from '../members/members.module.js';
import { OrgsModule } from '../orgs/orgs.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { ProjectsModule } from '../projects/projects.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { BillingController } from './billing.controller.js';
import { BillingService } from './billing.service.js';

@Module({
  imports: [AuditModule, PlansModule, OrgsModule, ProjectsModule, MembersModule, WebhooksModule],
  controllers: [BillingController],
  providers: [BillingService],
})
export class BillingModule {}
