import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { ChangeLogModule } from '../changes/change-log.module.js';
import { UsersModule } from '../auth/users.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { ProjectsModule } from '../projects/projects.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { SecretStoreModule } from './secret-store.module.js';
import { DiffController } from './diff.controller.js';
import { EnvironmentDiff } from './environment-diff.service.js';
import { ReferenceResolver } from './reference-resolver.service.js';
import { SecretRestore } from './secret-restore.service.js';
import { SecretWriter } from './secret-writer.service.js';
import { SecretsController } from './secrets.controller.js';
import { SecretsService } from './secrets.service.js';

/** Secrets: reads, and the one write pipeline (SecretWriter) that every change to secrets goes through. */
@Module({
  imports: [SecretStoreModule, ProjectsModule, WebhooksModule, AuditModule, PlansModule, UsersModule, ChangeLogModule],
  controllers: [DiffController, SecretsController],
  providers: [SecretsService, SecretWriter, EnvironmentDiff, SecretRestore, ReferenceResolver],
  exports: [SecretWriter, EnvironmentDiff, ReferenceResolver, SecretStoreModule],
})
export class SecretsModule {}
