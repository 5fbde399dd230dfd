import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { AdminEmails } from './admin-emails.js';
import { AdminController } from './admin.controller.js';
import { AdminService } from './admin.service.js';

@Module({ imports: [AuditModule, MetricsModule, PlansModule], controllers: [AdminController], providers: [AdminService, AdminEmails] })
export class AdminModule {}
