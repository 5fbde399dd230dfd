import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { RequestMeta } from './request-context.js';
import { RateLimiter } from '../../common/rate-limit/rate-limiter.service.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { AuditService } from '../audit/audit.service.js';
import { MailOutbox } from '../mail/mail-outbox.js';
import { passwordChangedMail, passwordResetMail } from '../mail/messages.js';
import { ForgotPasswordDto, ResetPasswordDto } from './auth.dto.js';
import { InvalidEmailLinkError, TooManyMailRequestsError } from './auth.errors.js';
import { loginFailuresKey } from './auth.service.js';
import { hashPassword } from './credentials.js';
import { EMAIL_TOKEN_TTL_HOURS, EmailTokens } from './email-tokens.service.js';
import { assertPasswordQuality } from './password-policy.js';
import { SessionsService } from './sessions.service.js';
import { revokeTokensOf } from './tokens.service.js';
import { UsersRepository } from './users.repository.js';
import { CliLoginService } from './cli-login/cli-login.service.js';
import { OidcTrustsService } from './oidc/oidc-trusts.service.js';

/** Forgot-password and reset-password: a single-use link, valid for an hour, mailed to the account's address. */
@Injectable()
export class PasswordResetService {
  constructor(
    private readonly db: DataSource,
    private readonly users: UsersRepository,
    private readonly tokens: EmailTokens,
    private readonly sessions: SessionsService,
    private readonly outbox: MailOutbox,
    private readonly audit: AuditService,
    private readonly limiter: RateLimiter,
    private readonly oidcTrusts: OidcTrustsService,
    private readonly cliLogins: CliLoginService,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Answers the same way, in the same time, whether or not an account has this address: the request
   * does only the rate-limit counting (per client address, and per email address whether or not it
   * has an account); the lookup, the token and the mail happen after the response.
   */
  async requestReset(dto: ForgotPasswordDto, meta: RequestMeta): Promise<void> {
    const { perIp, perAddress } = this.config.mail.rateLimit;
    const byIp = await this.limiter.hit(`mail:reset:ip:${meta.ip}`, perIp);
    if (byIp.count > perIp.limit) throw new TooManyMailRequestsError(byIp.retryAfterSeconds);
    const byAddress = await this.limiter.hit(`mail:reset:address:${dto.email}`, perAddress);
    if (byAddress.count > perAddress.limit) throw new TooManyMailRequestsError(byAddress.retryAfterSeconds);
    this.outbox.later('password reset link', () => this.mailResetLink(dto.email, meta));
  }

  private async mailResetLink(email: string, meta: RequestMeta): Promise<void> {
    const user = await this.users.byEmail(email);
    if (!user) return;
    // Committed before the mail goes out, so the link works as soon as it arrives.
    const token = await this.db.transaction(async (em) => {
      await this.audit.record(em, { action: 'auth.password_reset_requested', actor: { userId: user.id }, meta });
      return this.tokens.issue(em, user, 'reset_password');
    });
    await this.outbox.send(passwordResetMail(this.config.publicUrl, user, token, EMAIL_TOKEN_TTL_HOURS.reset_password));
  }

  /**
   * Sets the password, ends every session of the user and clears a login lock-out; then mails a notice.
   * With `revokeTokens`, or when it first proves the address, it also ends every token, approved CLI
   * sign-in not yet collected and OIDC trust relationship of the account.
   */
  async resetPassword(dto: ResetPasswordDto, meta: RequestMeta): Promise<void> {
    const holder = await this.db.transaction(async (em) => {
      const holder = await this.tokens.consume(em, dto.token, 'reset_password');
      if (!holder) throw new InvalidEmailLinkError();
      // Refused here, the transaction rolls back: the link stays usable for a better password.
      await assertPasswordQuality(dto.password, { field: 'password', email: holder.email });
      const passwordHash = await hashPassword(dto.password, this.config.passwordHashCost);
      // The link reached the address, so the address is verified too.
      const [{ was_verified: wasVerified }]: Array<{ was_verified: boolean }> = await em.query(
        // In a CTE: TypeORM returns [rows, count] for a bare UPDATE … RETURNING. The self-join reads the
        // row as it was before the update.
        `WITH updated AS (
           UPDATE users u SET password_hash = $2, email_verified_at = coalesce(u.email_verified_at, now()), updated_at = now()
             FROM users before WHERE u.id = $1 AND before.id = u.id
           RETURNING before.email_verified_at IS NOT NULL AS was_verified)
         SELECT was_verified FROM updated`,
        [holder.userId, passwordHash],
      );
      await this.sessions.revokeAllOf(em, holder.userId);
      const actor = { userId: holder.userId };
      // An unverified account may have been opened by someone else with this address (sign-up does not
      // prove the mailbox): the first proof of the mailbox ends every token that account minted, too.
      const revokeTokens = dto.revokeTokens || !wasVerified;
      const reason = dto.revokeTokens ? 'password_reset' : 'address_proven';
      // Taken back whole: the CLI sign-ins it approved and the OIDC trust relationships it created (which
      // mint tokens acting as the account) go with its tokens. Before the tokens: an exchange or a CLI
      // poll running now finishes first, and the token it minted is revoked with the others.
      let metadata: Record<string, number> = { revokedTokens: 0 };
      if (revokeTokens) {
        const how = { actor, meta, reason };
        const expiredCliLogins = await this.cliLogins.expireApprovedOf(em, holder.userId);
        const deletedOidcTrusts = await this.oidcTrusts.removeCreatedBy(em, { userId: holder.userId }, how);
        const revokedTokens = await revokeTokensOf(em, this.audit, { userId: holder.userId }, how);
        metadata = { revokedTokens, deletedOidcTrusts, expiredCliLogins };
      }
      await this.audit.record(em, { action: 'auth.password_reset', actor, meta, metadata });
      return holder;
    });
    await this.limiter.reset(loginFailuresKey(holder.email));
    const notice = passwordChangedMail(this.config.publicUrl, holder, { how: 'reset', at: new Date(), ip: meta.ip });
    this.outbox.later('password reset notice', () => this.outbox.send(notice));
  }
}
