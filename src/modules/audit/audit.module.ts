import { Module } from '@nestjs/common';
import { UsersModule } from '../auth/users.module.js';
import { KeysModule } from '../keys/keys.module.js';
import { AuditChain } from './audit-chain.service.js';
import { AuditExport } from './audit-export.service.js';
import { AuditController } from './audit.controller.js';
import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';

@Module({
  imports: [UsersModule, KeysModule],
  controllers: [AuditController],
  providers: [AuditRepository, AuditService, AuditChain, AuditExport],
  exports: [AuditService, AuditChain, AuditRepository],
})
export class AuditModule {}
