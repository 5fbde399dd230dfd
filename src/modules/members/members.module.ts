import { Module } from '@nestjs/common';
import { MailModule } from '../mail/mail.module.js';
import { MembersController } from './members.controller.js';
import { MembersService } from './members.service.js';

@Module({ imports: [MailModule], controllers: [MembersController], providers: [MembersService] })
export class MembersModule {}
