import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { EntityManager, IsNull, Not } from 'typeorm';
import type { Authenticated, OrgRef, RequestMeta } from './request-context.js';
import { membershipFrom, membershipJoin, type MembershipColumns } from './caller-membership.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { PreparedSql } from '../../database/prepared-sql.js';
import { Session } from './session.entity.js';

export const SESSION_COOKIE = '__secr_session';

/** The caller's columns of `users`, as both credential lookups select them. */
export interface UserColumns {
  id: string;
  email: string;
  is_admin: boolean;
  email_verified: boolean;
}

export interface SessionClaims {
  sub: string;
  sid: string;
}

/**
 * Cookie sessions: a signed JWT naming a `sessions` row. The row is checked on every request, so
 * logout and password changes take effect at once on every app instance.
 */
@Injectable()
export class SessionsService {
  constructor(
    private readonly sql: PreparedSql,
    private readonly jwt: JwtService,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async create(em: EntityManager, userId: string, meta: RequestMeta): Promise<{ jwt: string; expiresAt: Date }> {
    const expiresAt = new Date(Date.now() + this.config.sessionTtlSeconds * 1000);
    const { identifiers } = await em.insert(Session, { userId, ip: meta.ip, userAgent: meta.userAgent, expiresAt });
    const sid = identifiers[0].id as string;
    const claims: SessionClaims = { sub: userId, sid };
    const jwt = await this.jwt.signAsync(claims, { expiresIn: this.config.sessionTtlSeconds });
    return { jwt, expiresAt };
  }

  /**
   * The actor for the verified claims of a session cookie (`SessionJwtStrategy` checks the signature
   * and expiry), or `null` when its session is revoked or expired; with `org`, also the actor's
   * membership in that org, from the same query.
   */
  async resolve(claims: SessionClaims, org?: OrgRef): Promise<Authenticated | null> {
    if (typeof claims.sid !== 'string' || typeof claims.sub !== 'string') return null;
    const membership = membershipJoin('u.id', '$3', org?.by);
    const [row] = await this.sql.query<MembershipColumns & UserColumns>(
      `session-verify-${org?.by ?? 'account'}`,
      `SELECT u.id, u.email, u.is_admin, u.email_verified_at IS NOT NULL AS email_verified, ${membership.select}
         FROM sessions s JOIN users u ON u.id = s.user_id ${membership.join}
        WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()`,
      org ? [claims.sid, claims.sub, org.value] : [claims.sid, claims.sub],
    );
    if (!row) return null;
    return {
      actor: { userId: row.id, email: row.email, isAdmin: row.is_admin, emailVerified: row.email_verified, via: 'session', sessionId: claims.sid },
      membership: membershipFrom(row),
    };
  }

  async revoke(em: EntityManager, sessionId: string): Promise<void> {
    await em.update(Session, { id: sessionId, revokedAt: IsNull() }, { revokedAt: new Date() });
  }

  /** Ends every session of a user but `keepSessionId` (the one changing the password). */
  async revokeAllOf(em: EntityManager, userId: string, keepSessionId?: string): Promise<void> {
    const where = keepSessionId ? { userId, revokedAt: IsNull(), id: Not(keepSessionId) } : { userId, revokedAt: IsNull() };
    await em.update(Session, where, { revokedAt: new Date() });
  }
}
