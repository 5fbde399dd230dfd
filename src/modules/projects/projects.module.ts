import { Module } from '@nestjs/common';
import { KeyRotationService } from './key-rotation.service.js';
import { ProjectsController } from './projects.controller.js';
import { ProjectsService } from './projects.service.js';
import { VaultAccess } from './vault-access.service.js';

@Module({
  controllers: [ProjectsController],
  providers: [ProjectsService, KeyRotationService, VaultAccess],
  exports: [VaultAccess],
})
export class ProjectsModule {}
