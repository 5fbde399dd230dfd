import { Module } from '@nestjs/common';
import { UsersModule } from '../auth/users.module.js';
import { AuditController } from './audit.controller.js';
import { AuditService } from './audit.service.js';

@Module({ imports: [UsersModule], controllers: [AuditController], providers: [AuditService], exports: [AuditService] })
export class AuditModule {}
