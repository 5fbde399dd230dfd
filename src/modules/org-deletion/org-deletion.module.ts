import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { ChangeLogModule } from '../changes/change-log.module.js';
import { MembersModule } from '../members/members.module.js';
import { OrgsModule } from '../orgs/orgs.module.js';
import { ProjectsModule } from '../projects/projects.module.js';
import { SecretStoreModule } from '../secrets/secret-store.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { OrgDeletionController } from './org-deletion.controller.js';
import { OrgPurge } from './org-purge.service.js';

/** Deleting an org and purging its data: it calls the repository of every table the org owns rows in. */
@Module({
  imports: [AuditModule, AuthModule, ChangeLogModule, MembersModule, OrgsModule, ProjectsModule, SecretStoreModule, WebhooksModule],
  controllers: [OrgDeletionController],
  providers: [OrgPurge],
})
export class OrgDeletionModule {}
