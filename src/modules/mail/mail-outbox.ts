import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { MailDeliveryError } from './mail.errors.js';
import { Mailer, type OutgoingMail } from './mailer.js';
import { describeError, SmtpMailer } from './smtp-mailer.js';

/**
 * How the app sends mail: now (the caller waits, and a failure is a 503), or later (after the
 * response; a failure is logged). Work sent later is awaited at shutdown, so a graceful stop loses no mail.
 */
@Injectable()
export class MailOutbox implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(MailOutbox.name);
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly mailer: Mailer,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  /** `false` when mail only goes to the server log (development without SMTP). */
  get delivers(): boolean {
    return this.mailer.delivers;
  }

  async send(mail: OutgoingMail): Promise<void> {
    try {
      await this.mailer.send(mail, this.config.mail.from);
    } catch (error) {
      this.logger.warn(`Could not send the mail "${mail.subject}": ${describeError(error)}`);
      throw new MailDeliveryError();
    }
  }

  /**
   * Runs `work` (which usually ends in `send`) without making the request wait for it. A failure is
   * logged by `what` and goes no further.
   */
  later(what: string, work: () => Promise<void>): void {
    const task = work().catch((error: unknown) => {
      // Through the `err` serializer (safeError): a query error's message and parameters hold
      // addresses and token hashes.
      if (!(error instanceof MailDeliveryError)) this.logger.error({ err: error }, `Background mail work failed (${what})`);
    });
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  /** Resolves when every piece of work handed to `later` so far has finished. */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  onApplicationBootstrap(): void {
    if (this.mailer instanceof SmtpMailer) this.mailer.checkConnection();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.idle();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.mailer.close();
  }
}
