import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { UsersModule } from '../auth/users.module.js';
import { MembersModule } from '../members/members.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { OrgsModule } from '../orgs/orgs.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { ProjectsModule } from '../projects/projects.module.js';
import { SecretStoreModule } from '../secrets/secret-store.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { AdminEmails } from './admin-emails.js';
import { AdminController } from './admin.controller.js';
import { AdminService } from './admin.service.js';

@Module({
  imports: [AuditModule, MetricsModule, PlansModule, UsersModule, OrgsModule, ProjectsModule, SecretStoreModule, MembersModule, WebhooksModule],
  controllers: [AdminController],
  providers: [AdminService, AdminEmails],
})
export class AdminModule {}
