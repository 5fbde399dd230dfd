import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { UsersModule } from '../auth/users.module.js';
import { MailModule } from '../mail/mail.module.js';
import { OrgsModule } from '../orgs/orgs.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { InvitesRepository } from './invites.repository.js';
import { MembersUsage } from './members-usage.js';
import { MembersController } from './members.controller.js';
import { MembersService } from './members.service.js';

@Module({
  imports: [MailModule, AuditModule, AuthModule, PlansModule, OrgsModule, UsersModule],
  controllers: [MembersController],
  providers: [MembersService, InvitesRepository, MembersUsage],
  exports: [InvitesRepository, MembersUsage],
})
export class MembersModule {}
