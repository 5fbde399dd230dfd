import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor, RequestMeta } from './request-context.js';
import { RateLimiter } from '../../common/rate-limit/rate-limiter.service.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { AuditService } from '../audit/audit.service.js';
import { MailOutbox } from '../mail/mail-outbox.js';
import { passwordChangedMail, registrationAttemptMail, welcomeMail, type Recipient } from '../mail/messages.js';
import { OrgsService } from '../orgs/orgs.service.js';
import { ChangePasswordDto, LoginDto, MeDto, RegisterDto, UserDto } from './auth.dto.js';
import { AccountLockedError, InvalidCredentialsError, TooManyLoginAttemptsError, TooManyRegistrationsError } from './auth.errors.js';
import { burnPasswordVerification, hashPassword, verifyPassword } from './credentials.js';
import { EMAIL_TOKEN_TTL_HOURS, EmailTokens } from './email-tokens.service.js';
import { assertPasswordQuality } from './password-policy.js';
import { SessionsService } from './sessions.service.js';
import { revokeTokensOf, TokensService } from './tokens.service.js';
import { UsersRepository, type UserRow } from './users.repository.js';
import { CliLoginService } from './cli-login/cli-login.service.js';
import { OidcTrustsService } from './oidc/oidc-trusts.service.js';

export interface SignedIn {
  user: UserDto;
  /** Goes into the session cookie only. */
  jwt: string;
  expiresAt: Date;
}

/** The rate-limit key that counts wrong passwords for an address (and locks it out). */
export function loginFailuresKey(email: string): string {
  return `login:failures:${email}`;
}

@Injectable()
export class AuthService {
  constructor(
    private readonly db: DataSource,
    private readonly users: UsersRepository,
    private readonly sessions: SessionsService,
    private readonly tokens: TokensService,
    private readonly orgs: OrgsService,
    private readonly audit: AuditService,
    private readonly limiter: RateLimiter,
    private readonly emailTokens: EmailTokens,
    private readonly outbox: MailOutbox,
    private readonly oidcTrusts: OidcTrustsService,
    private readonly cliLogins: CliLoginService,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Answers the same way for a new and an existing address (202, same body, no cookie), after the same
   * work: rate limits, the password rules, an argon2 hash and one transaction with an audit row. A new
   * address gets its account, its personal org and a welcome mail with a verification link; an
   * existing one gets a mail telling its owner that someone tried, and nothing else changes. Both mails
   * go out after the response, so mail latency tells nothing either. The caller then signs in with
   * POST /auth/login.
   */
  async register(dto: RegisterDto, meta: RequestMeta): Promise<void> {
    // Before the rate limits: a refused password costs little, says nothing about the address, and a
    // person trying a few should not be locked out of signing up by it.
    await assertPasswordQuality(dto.password, { field: 'password', email: dto.email });
    const rules = this.config.registerRateLimit;
    const byIp = await this.limiter.hit(`register:ip:${meta.ip}`, rules.perIp);
    if (byIp.count > rules.perIp.limit) throw new TooManyRegistrationsError(byIp.retryAfterSeconds);
    const byAddress = await this.limiter.hit(`register:address:${dto.email}`, rules.perAddress);
    if (byAddress.count > rules.perAddress.limit) throw new TooManyRegistrationsError(byAddress.retryAfterSeconds);
    const passwordHash = await hashPassword(dto.password, this.config.passwordHashCost);

    const outcome = await this.db.transaction(async (em): Promise<{ created: boolean; user: Recipient & { id: string } } | null> => {
      const isAdmin = this.config.adminEmails.includes(dto.email);
      // ON CONFLICT: an existing address is an answer, not an error (no failed statement, no log line).
      const inserted: Array<{ id: string }> = await em.query(
        `INSERT INTO users (email, name, password_hash, is_admin) VALUES ($1, $2, $3, $4) ON CONFLICT (email) DO NOTHING RETURNING id`,
        [dto.email, dto.name, passwordHash, isAdmin],
      );
      if (inserted.length) {
        const user = { id: inserted[0].id, email: dto.email, name: dto.name };
        const actor = { userId: user.id, token: undefined };
        await this.audit.record(em, { action: 'user.registered', actor, meta, metadata: { userId: user.id } });
        await this.orgs.createWithOwner(em, { name: `${dto.name}'s org`, ownerId: user.id, actor, meta });
        return { created: true, user };
      }
      const [existing]: Array<{ id: string; name: string }> = await em.query('SELECT id, name FROM users WHERE email = $1', [dto.email]);
      if (!existing) return null; // deleted in between: nobody to tell
      // Shown to the owner in their account activity; the name and password given are not kept.
      await this.audit.record(em, { action: 'user.register_attempted', actor: { userId: existing.id }, meta });
      return { created: false, user: { id: existing.id, email: dto.email, name: existing.name } };
    });

    if (!outcome) return;
    const { user } = outcome;
    if (outcome.created) {
      this.outbox.later('welcome mail', async () => {
        const token = await this.db.transaction((em) => this.emailTokens.issue(em, user, 'verify_email'));
        await this.outbox.send(welcomeMail(this.config.publicUrl, user, token, EMAIL_TOKEN_TTL_HOURS.verify_email));
      });
    } else {
      this.outbox.later('registration attempt notice', () => this.outbox.send(registrationAttemptMail(this.config.publicUrl, user)));
    }
  }

  async login(dto: LoginDto, meta: RequestMeta): Promise<SignedIn> {
    const rules = this.config.loginRateLimit;
    const perIp = await this.limiter.hit(`login:ip:${meta.ip}`, rules.perIp);
    if (perIp.count > rules.perIp.limit) throw new TooManyLoginAttemptsError(perIp.retryAfterSeconds);
    const perAccount = await this.limiter.hit(`login:account:${dto.email}`, rules.perAccount);
    if (perAccount.count > rules.perAccount.limit) throw new TooManyLoginAttemptsError(perAccount.retryAfterSeconds);
    // Failures are counted per address whether or not an account exists, so a lock-out says nothing
    // about which addresses have accounts.
    const failuresKey = loginFailuresKey(dto.email);
    const lockedFor = await this.limiter.lockedFor(failuresKey, rules.lockoutFailures);
    if (lockedFor > 0) throw new AccountLockedError(lockedFor);
    // The attempt counts as a failure until the password is proven (a success clears the count), so
    // concurrent guesses cannot all pass the check above before any of them is counted.
    const attempt = await this.limiter.recordFailure(failuresKey, rules.lockoutFailures, rules.lockoutSeconds);
    if (attempt.count > rules.lockoutFailures) throw new AccountLockedError(attempt.retryAfterSeconds);

    const user = await this.users.withPasswordHash({ email: dto.email });
    const valid = user
      ? await verifyPassword(user.passwordHash, dto.password)
      : (await burnPasswordVerification(dto.password, this.config.passwordHashCost), false);

    if (!user || !valid) {
      if (user) {
        await this.audit.record(this.db.manager, { action: 'auth.login_failed', actor: { userId: user.id }, meta });
      }
      throw new InvalidCredentialsError();
    }
    await this.limiter.reset(failuresKey);
    return this.db.transaction(async (em) => {
      const session = await this.sessions.create(em, user.id, meta);
      await this.audit.record(em, { action: 'auth.login', actor: { userId: user.id }, meta });
      return { user: toUserDto(user), ...session };
    });
  }

  /** Ends the credential that made the request: the session, or the bearer token itself. */
  async logout(actor: Actor, meta: RequestMeta): Promise<void> {
    if (actor.token) return this.tokens.revoke(actor, actor.token.id, meta);
    await this.db.transaction(async (em) => {
      if (actor.sessionId) await this.sessions.revoke(em, actor.sessionId);
      await this.audit.record(em, { action: 'auth.logout', actor, meta });
    });
  }

  async me(actor: Actor): Promise<MeDto> {
    const user = await this.users.get(actor.userId);
    if (!user) throw new Error(`User ${actor.userId} not found`);
    const orgs = await this.orgs.listForUser(actor.userId);
    // A token scoped to one org shows that org only: the others are beyond its scope.
    const scopedTo = actor.token?.orgId;
    return { user: toUserDto(user), orgs: scopedTo ? orgs.filter((org) => org.id === scopedTo) : orgs };
  }

  async changePassword(actor: Actor, dto: ChangePasswordDto, meta: RequestMeta): Promise<void> {
    const user = await this.users.withPasswordHash({ id: actor.userId });
    if (!user) throw new Error(`User ${actor.userId} not found`);
    if (!(await verifyPassword(user.passwordHash, dto.currentPassword))) {
      throw new InvalidCredentialsError();
    }
    await assertPasswordQuality(dto.newPassword, { field: 'newPassword', email: user.email });
    const passwordHash = await hashPassword(dto.newPassword, this.config.passwordHashCost);
    await this.db.transaction(async (em) => {
      await this.users.setPasswordHash(em, user.id, passwordHash);
      await this.sessions.revokeAllOf(em, user.id, actor.sessionId);
      // A reset link mailed before the change must not undo it.
      await this.emailTokens.voidOpen(em, user.id, 'reset_password');
      // Every credential the account issued ends, as with a reset (password-reset.service.ts): approved CLI
      // sign-ins not yet collected and the OIDC trust relationships it created first, then the tokens.
      let metadata: Record<string, number> = { revokedTokens: 0 };
      if (dto.revokeTokens) {
        const how = { actor, meta, reason: 'password_changed' };
        const expiredCliLogins = await this.cliLogins.expireApprovedOf(em, user.id);
        const deletedOidcTrusts = await this.oidcTrusts.removeCreatedBy(em, { userId: user.id }, how);
        const revokedTokens = await revokeTokensOf(em, this.audit, { userId: user.id }, how);
        metadata = { revokedTokens, deletedOidcTrusts, expiredCliLogins };
      }
      await this.audit.record(em, { action: 'auth.password_changed', actor, meta, metadata });
    });
    const notice = passwordChangedMail(this.config.publicUrl, user, { how: 'changed', at: new Date(), ip: meta.ip });
    this.outbox.later('password changed notice', () => this.outbox.send(notice));
  }
}

export function toUserDto(u: UserRow): UserDto {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    emailVerified: u.emailVerifiedAt !== null,
    isAdmin: u.isAdmin,
    createdAt: u.createdAt,
  };
}
