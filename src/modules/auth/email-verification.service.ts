import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor, RequestMeta } from './request-context.js';
import { RateLimiter } from '../../common/rate-limit/rate-limiter.service.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { AuditService } from '../audit/audit.service.js';
import { MailOutbox } from '../mail/mail-outbox.js';
import { verificationMail } from '../mail/messages.js';
import { VerifyEmailDto } from './auth.dto.js';
import { EmailAlreadyVerifiedError, InvalidEmailLinkError, TooManyMailRequestsError } from './auth.errors.js';
import { EMAIL_TOKEN_TTL_HOURS, EmailTokens } from './email-tokens.service.js';
import { UsersRepository } from './users.repository.js';

/** Proof that a user reads the mailbox of their address: a link mailed there, followed. */
@Injectable()
export class EmailVerificationService {
  constructor(
    private readonly db: DataSource,
    private readonly users: UsersRepository,
    private readonly tokens: EmailTokens,
    private readonly outbox: MailOutbox,
    private readonly audit: AuditService,
    private readonly limiter: RateLimiter,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  /** Mails a verification link; the caller learns at once if the mail server refused it (503). */
  async send(actor: Actor): Promise<void> {
    const user = await this.users.get(actor.userId);
    if (!user) throw new Error(`User ${actor.userId} not found`);
    if (user.emailVerifiedAt) throw new EmailAlreadyVerifiedError();
    // Anyone can register with someone else's address: cap the mails that address can be sent.
    const rule = this.config.mail.rateLimit.perAddress;
    const hit = await this.limiter.hit(`mail:verify:${user.email}`, rule);
    if (hit.count > rule.limit) throw new TooManyMailRequestsError(hit.retryAfterSeconds);
    // The token only counts if its mail went out: a refused mail rolls it back.
    await this.db.transaction(async (em) => {
      const token = await this.tokens.issue(em, user, 'verify_email');
      await this.outbox.send(verificationMail(this.config.publicUrl, user, token, EMAIL_TOKEN_TTL_HOURS.verify_email));
    });
  }

  async verify(dto: VerifyEmailDto, meta: RequestMeta): Promise<void> {
    await this.db.transaction(async (em) => {
      const holder = await this.tokens.consume(em, dto.token, 'verify_email');
      if (!holder) throw new InvalidEmailLinkError();
      await em.query('UPDATE users SET email_verified_at = coalesce(email_verified_at, now()), updated_at = now() WHERE id = $1', [holder.userId]);
      await this.audit.record(em, { action: 'user.email_verified', actor: { userId: holder.userId }, meta, metadata: { email: holder.email } });
    });
  }
}
