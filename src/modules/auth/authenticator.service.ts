import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../../common/auth/actor.js';
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

  async authenticate(req: FastifyRequest): Promise<Actor | null> {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      const actor = match ? await this.tokens.verify(match[1]) : null;
      if (!actor) throw new UnauthorizedError('Invalid, expired or revoked token');
      return actor;
    }
    const cookie = req.cookies?.[SESSION_COOKIE];
    if (cookie) {
      const actor = await this.sessions.verify(cookie);
      if (!actor) throw new UnauthorizedError('Session expired or signed out; sign in again');
      return actor;
    }
    return null;
  }
}
