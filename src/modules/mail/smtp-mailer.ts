import { Logger } from '@nestjs/common';
import nodemailer, { type SMTPTransportOptions, type Transporter } from 'nodemailer';
import { Mailer, type OutgoingMail } from './mailer.js';

/**
 * Transport options from `SMTP_URL`: `smtp://[user:password@]host[:port]` or `smtps://…`. TLS from the
 * first byte with `smtps://` or `?secure=true` (port 465 by default); otherwise STARTTLS when the server
 * offers it, or always with `?requireTLS=true` (port 587 by default). User and password are
 * percent-decoded, so a password may hold any character.
 */
export function smtpOptionsFrom(url: string): SMTPTransportOptions {
  const u = new URL(url);
  const query = u.searchParams;
  const secure = u.protocol === 'smtps:' || query.get('secure') === 'true';
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    requireTLS: query.get('requireTLS') === 'true',
    auth: u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  };
}

/** Hands mail to an SMTP server (one connection per message: secr sends few). */
export class SmtpMailer extends Mailer {
  readonly name = 'smtp';
  readonly delivers = true;
  private readonly logger = new Logger('Mail');
  private readonly transport: Transporter;
  private readonly server: string;

  constructor(url: string) {
    super();
    const options = smtpOptionsFrom(url);
    this.transport = nodemailer.createTransport(options);
    // Names the server in logs without its credentials.
    this.server = `${options.host}:${options.port}${options.secure ? ' (TLS)' : ''}`;
  }

  async send(mail: OutgoingMail, from: string): Promise<void> {
    await this.transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html });
  }

  /** Says at start-up whether the server answers, so a wrong SMTP_URL shows before the first mail fails. */
  checkConnection(): void {
    this.transport.verify().then(
      () => this.logger.log(`Mail goes out through the SMTP server ${this.server}`),
      (error: unknown) => this.logger.warn(`The SMTP server ${this.server} does not answer as expected: ${describeError(error)}`),
    );
  }

  override async close(): Promise<void> {
    this.transport.close();
  }
}

/**
 * An SMTP (nodemailer) error's code and message, which quote the server's reply: never the message being
 * sent (it may hold a link with a token). Only for errors of the SMTP transport; anything else is logged
 * as `{ err }` (safeError).
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as Error & { code?: string }).code;
  return code ? `${code}: ${error.message}` : error.message;
}
