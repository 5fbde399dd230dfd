import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { OrgsController } from './orgs.controller.js';
import { OrgsRepository } from './orgs.repository.js';
import { OrgsService } from './orgs.service.js';

@Module({
  imports: [AuditModule],
  controllers: [OrgsController],
  providers: [OrgsService, OrgsRepository],
  exports: [OrgsService, OrgsRepository],
})
export class OrgsModule {}
