import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor, RequestMeta } from '../../common/auth/actor.js';
import { RateLimiter } from '../../common/rate-limit/rate-limiter.service.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { isUniqueViolation } from '../../database/pg-errors.js';
import { AuditService } from '../audit/audit.service.js';
import { MailOutbox } from '../mail/mail-outbox.js';
import { passwordChangedMail } from '../mail/messages.js';
import { OrgsService } from '../orgs/orgs.service.js';
import { ChangePasswordDto, LoginDto, MeDto, RegisterDto, RegisterResponseDto, UserDto } from './auth.dto.js';
import { AccountLockedError, EmailTakenError, InvalidCredentialsError, TooManyLoginAttemptsError } from './auth.errors.js';
import { burnPasswordVerification, hashPassword, verifyPassword } from './credentials.js';
import { EmailTokens } from './email-tokens.service.js';
import { SessionsService } from './sessions.service.js';
import { TokensService } from './tokens.service.js';
import { User } from './user.entity.js';

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
    private readonly sessions: SessionsService,
    private readonly tokens: TokensService,
    private readonly orgs: OrgsService,
    private readonly audit: AuditService,
    private readonly limiter: RateLimiter,
    private readonly emailTokens: EmailTokens,
    private readonly outbox: MailOutbox,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async register(dto: RegisterDto, meta: RequestMeta): Promise<RegisterResponseDto & SignedIn> {
    const passwordHash = await hashPassword(dto.password);
    try {
      return await this.db.transaction(async (em) => {
        const isAdmin = this.config.adminEmails.includes(dto.email.toLowerCase());
        const user = em.create(User, { email: dto.email, name: dto.name, passwordHash, isAdmin, emailVerifiedAt: null });
        await em.insert(User, user);
        const actor = { userId: user.id, token: undefined };
        await this.audit.record(em, { action: 'user.registered', actor, meta, metadata: { userId: user.id } });
        const org = await this.orgs.createWithOwner(em, { name: `${dto.name}'s org`, ownerId: user.id, actor, meta });
        const session = await this.sessions.create(em, user.id, meta);
        return { user: toUserDto(user), org, ...session };
      });
    } catch (error) {
      if (isUniqueViolation(error, 'users_email_key')) throw new EmailTakenError();
      throw error;
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

    const user = await this.db
      .getRepository(User)
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.email = :email', { email: dto.email })
      .getOne();
    const valid = user ? await verifyPassword(user.passwordHash, dto.password) : (await burnPasswordVerification(dto.password), false);

    if (!user || !valid) {
      await this.limiter.recordFailure(failuresKey, rules.lockoutFailures, rules.lockoutSeconds);
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
    const user = await this.db.getRepository(User).findOneByOrFail({ id: actor.userId });
    return { user: toUserDto(user), orgs: await this.orgs.listForUser(actor.userId) };
  }

  async changePassword(actor: Actor, dto: ChangePasswordDto, meta: RequestMeta): Promise<void> {
    const user = await this.db
      .getRepository(User)
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.id = :id', { id: actor.userId })
      .getOneOrFail();
    if (!(await verifyPassword(user.passwordHash, dto.currentPassword))) {
      throw new InvalidCredentialsError();
    }
    const passwordHash = await hashPassword(dto.newPassword);
    await this.db.transaction(async (em) => {
      await em.update(User, { id: user.id }, { passwordHash });
      await this.sessions.revokeAllOf(em, user.id, actor.sessionId);
      // A reset link mailed before the change must not undo it.
      await this.emailTokens.voidOpen(em, user.id, 'reset_password');
      await this.audit.record(em, { action: 'auth.password_changed', actor, meta });
    });
    const notice = passwordChangedMail(this.config.publicUrl, user, { how: 'changed', at: new Date(), ip: meta.ip });
    this.outbox.later('password changed notice', () => this.outbox.send(notice));
  }
}

export function toUserDto(u: User): UserDto {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    emailVerified: u.emailVerifiedAt !== null,
    isAdmin: u.isAdmin,
    createdAt: u.createdAt,
  };
}
