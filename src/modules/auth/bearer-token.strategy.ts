import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import passport from 'passport';
import { UnauthorizedError } from '../../common/errors/domain-error.js';
import type { Authenticated } from './request-context.js';
import { TokensService } from './tokens.service.js';

export const BEARER_STRATEGY = 'secr-bearer';

type Verify = (req: FastifyRequest, token: string, done: (err: unknown, result?: Authenticated | null) => void) => void;

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * A passport strategy for `Authorization: Bearer <token>`. Without the header it passes (the session
 * strategy comes next); with a header it decides: a malformed, unknown, expired or revoked token is a
 * 401, never a fall-back to the cookie.
 */
class BearerStrategyBase extends passport.Strategy {
  constructor(private readonly verify: Verify) {
    super();
  }

  // passport's types name Express's request; under Fastify it is Fastify's.
  override authenticate(request: unknown): void {
    const req = request as FastifyRequest;
    const header = req.headers.authorization;
    if (header === undefined) return this.fail(401);
    const match = BEARER.exec(header);
    if (!match) return this.error(invalidToken());
    this.verify(req, match[1], (err, verified) => {
      if (err) this.error(err);
      else if (verified) this.success(verified);
      else this.error(invalidToken());
    });
  }
}

const invalidToken = (): UnauthorizedError => new UnauthorizedError('Invalid, expired or revoked token');

/**
 * Bearer tokens, looked up with the caller's membership in the route's org in one statement that the
 * lookups of concurrent requests share (`TokensService.verify`, StatementBatcher).
 */
@Injectable()
export class BearerTokenStrategy extends PassportStrategy(BearerStrategyBase, BEARER_STRATEGY) {
  constructor(private readonly tokens: TokensService) {
    super();
  }

  validate(req: FastifyRequest, token: string): Promise<Authenticated | null> {
    return this.tokens.verify(token, req.orgRef);
  }
}
