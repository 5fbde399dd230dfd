import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { ProjectsModule } from '../projects/projects.module.js';
import { SecretStoreModule } from '../secrets/secret-store.module.js';
import { TemplatesController } from './templates.controller.js';
import { TemplatesService } from './templates.service.js';

@Module({ imports: [ProjectsModule, SecretStoreModule, AuditModule], controllers: [TemplatesController], providers: [TemplatesService] })
export class TemplatesModule {}
