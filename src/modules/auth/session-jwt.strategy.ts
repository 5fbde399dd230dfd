import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { createSecretKey } from 'node:crypto';
import { Strategy } from 'passport-jwt';
import { CONFIG, type AppConfig } from '../../config/config.js';
import type { Authenticated } from './request-context.js';
import { SESSION_COOKIE, SessionsService, type SessionClaims } from './sessions.service.js';

export const SESSION_STRATEGY = 'secr-session';

/**
 * The `__secr_session` cookie (passport-jwt): a JWT signed by this instance (HS256, issuer `secr`)
 * whose `sid` names a `sessions` row. The row is checked on every request, so that logout and password
 * changes take effect at once on every instance. No cookie = this strategy fails and the guard answers 401.
 */
@Injectable()
export class SessionJwtStrategy extends PassportStrategy(Strategy, SESSION_STRATEGY) {
  constructor(
    private readonly sessions: SessionsService,
    @Inject(CONFIG) config: AppConfig,
  ) {
    if (!config.sessionSecret) throw new Error('SESSION_SECRET was not resolved before start-up');
    super({
      jwtFromRequest: (req: FastifyRequest) => req.cookies?.[SESSION_COOKIE] ?? null,
      // A KeyObject, made once: given a string, jsonwebtoken tries to parse it as a PEM public key (and
      // fails) on every verification, about 50 µs of every signed-in request.
      secretOrKey: createSecretKey(Buffer.from(config.sessionSecret)) as unknown as Buffer,
      algorithms: ['HS256'],
      issuer: 'secr',
      passReqToCallback: true,
    });
  }

  validate(req: FastifyRequest, claims: SessionClaims): Promise<Authenticated | null> {
    return this.sessions.resolve(claims, req.orgRef);
  }
}
