import { Module } from '@nestjs/common';
import { AdminEmails } from './admin-emails.js';
import { AdminController } from './admin.controller.js';
import { AdminService } from './admin.service.js';

@Module({ controllers: [AdminController], providers: [AdminService, AdminEmails] })
export class AdminModule {}
