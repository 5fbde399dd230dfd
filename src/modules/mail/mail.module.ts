import { Module } from '@nestjs/common';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { LogMailer } from './log-mailer.js';
import { MailOutbox } from './mail-outbox.js';
import { Mailer } from './mailer.js';
import { SmtpMailer } from './smtp-mailer.js';

export function createMailer(config: AppConfig): Mailer {
  return config.mail.smtpUrl ? new SmtpMailer(config.mail.smtpUrl) : new LogMailer();
}

@Module({
  providers: [{ provide: Mailer, inject: [CONFIG], useFactory: createMailer }, MailOutbox],
  exports: [MailOutbox],
})
export class MailModule {}
