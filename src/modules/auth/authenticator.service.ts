import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Authenticated } from '../../common/auth/actor.js';
import type { OrgRef } from '../orgs/orgs.service.js';
import { UnauthorizedError } from '../../common/errors/domain-error.js';
import { SESSION_COOKIE, SessionsService } from './sessions.service.js';
import { TokensService } from './tokens.service.js';

/**
 * Turns a request's credential into an Actor. A bearer token wins over a cookie; a credential that
 * is present but invalid is a 401, never a silent fall-back to anonymous.
 */
@Injectable()
export class Authenticator {
  constructor(
    private readonly sessions: SessionsService,
    private readonly tokens: TokensService,
  ) {}

  /** With `org`, the caller's membership in it comes back too (one query for both). */
  async authenticate(req: FastifyRequest, org?: OrgRef): Promise<Authenticated | null> {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      const verified = match ? await this.tokens.verify(match[1], org) : null;
      if (!verified) throw new UnauthorizedError('Invalid, expired or revoked token');
      return verified;
    }
    const cookie = req.cookies?.[SESSION_COOKIE];
    if (cookie) {
      const verified = await this.sessions.verify(cookie, org);
      if (!verified) throw new UnauthorizedError('Session expired or signed out; sign in again');
      return verified;
    }
    return null;
  }
}
