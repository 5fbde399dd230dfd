import { Logger } from '@nestjs/common';
import { Mailer, type OutgoingMail } from './mailer.js';

/**
 * Development without SMTP: the whole plain-text mail goes to the server log, so a developer can follow
 * its link. This is the one place a token is written to a log, and it only exists where
 * `NODE_ENV` is not production (config refuses production without `SMTP_URL`).
 */
export class LogMailer extends Mailer {
  readonly name = 'log';
  readonly delivers = false;
  private readonly logger = new Logger('Mail');

  async send(mail: OutgoingMail, from: string): Promise<void> {
    this.logger.log(`SMTP_URL is unset, so this mail was not sent; it reads:\nFrom: ${from}\nTo: ${mail.to}\nSubject: ${mail.subject}\n\n${mail.text}`);
  }
}
