import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { KeysModule } from '../keys/keys.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { SecretStoreModule } from '../secrets/secret-store.module.js';
import { KeyRotationService } from './key-rotation.service.js';
import { ProjectsController } from './projects.controller.js';
import { ProjectsRepository } from './projects.repository.js';
import { ProjectsService } from './projects.service.js';
import { VaultAccess } from './vault-access.service.js';

@Module({
  imports: [AuditModule, PlansModule, KeysModule, SecretStoreModule],
  controllers: [ProjectsController],
  providers: [ProjectsService, ProjectsRepository, KeyRotationService, VaultAccess],
  exports: [VaultAccess, ProjectsRepository],
})
export class ProjectsModule {}
