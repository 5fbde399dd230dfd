import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { ProjectsModule } from '../projects/projects.module.js';
import { SecretsModule } from '../secrets/secrets.module.js';
import { PromotionController } from './promotion.controller.js';
import { PromotionService } from './promotion.service.js';

@Module({ imports: [ProjectsModule, SecretsModule, AuditModule], controllers: [PromotionController], providers: [PromotionService] })
export class PromotionModule {}
