import { type CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { PERMISSION_INFO, roleHasPermission } from '../../common/auth/permissions.js';
import { ROUTE_METADATA, type ProtectedRoute, type RouteOptions } from '../../common/auth/route.decorator.js';
import { ForbiddenError, UnauthorizedError, ValidationFailedError } from '../../common/errors/domain-error.js';
import { UUID_PATTERN } from '../../common/validation/parse-uuid.pipe.js';
import { NotOrgMemberError } from '../orgs/orgs.errors.js';
import type { Actor, Authenticated, OrgContext, OrgRef } from './request-context.js';
import { SESSION_COOKIE } from './sessions.service.js';
import { BearerTokenStrategy } from './bearer-token.strategy.js';
import { SessionJwtStrategy } from './session-jwt.strategy.js';
import { StrategyChain } from './strategy-chain.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_HEADER = 'x-requested-with';
export const CSRF_VALUE = 'secr';

/**
 * Global and deny-by-default (APP_GUARD, registered by AuthModule): a handler without `@Route` is
 * refused. For a protected route it authenticates through passport (a bearer token first, else the
 * session cookie; the strategies read credential and membership in one query), applies the CSRF rule
 * to cookie sessions, intersects the token's scope, and for org-scoped permissions checks the caller's
 * role in the org the route names (DESIGN.md §4).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  /** A bearer token first, else the session cookie. */
  private readonly strategies: StrategyChain<Authenticated>;

  constructor(
    private readonly reflector: Reflector,
    bearer: BearerTokenStrategy,
    session: SessionJwtStrategy,
  ) {
    this.strategies = new StrategyChain([bearer, session]);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const route = this.reflector.get<RouteOptions | undefined>(ROUTE_METADATA, context.getHandler());
    if (!route) throw new ForbiddenError('This route has no access rule');
    if ('public' in route) return true;

    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const orgRef = PERMISSION_INFO[route.permission].scope === 'org' ? orgRefOf(req, route) : undefined;
    // Credential and membership in one query; a malformed org id is reported only to the authenticated.
    if (orgRef && !(orgRef instanceof ValidationFailedError)) req.orgRef = orgRef;
    const { actor, membership } = await this.authenticate(req);
    if (actor.via === 'session' && !SAFE_METHODS.has(req.method) && req.headers[CSRF_HEADER] !== CSRF_VALUE) {
      throw new ForbiddenError(`Cookie-authenticated requests that change state must send the header X-Requested-With: ${CSRF_VALUE}`);
    }
    checkTokenScope(actor, route);
    checkAdmin(actor, route);
    req.actor = actor;

    if (orgRef instanceof ValidationFailedError) throw orgRef;
    if (orgRef) req.org = checkMembership(actor, membership, orgRef, route);
    return true;
  }

  /** This app's passport strategies (StrategyChain): a bearer token first, else the session cookie. */
  private async authenticate(req: FastifyRequest): Promise<Authenticated> {
    const user = await this.strategies.run(req);
    if (user) return user;
    throw req.cookies?.[SESSION_COOKIE] ? new UnauthorizedError('Session expired or signed out; sign in again') : new UnauthorizedError();
  }
}

function orgRefOf(req: FastifyRequest, route: ProtectedRoute): OrgRef | ValidationFailedError {
  const { param, by } = route.org!;
  const value = (req.params as Record<string, string>)[param];
  if (by === 'id' && !UUID_PATTERN.test(value)) {
    return new ValidationFailedError([{ field: param, message: `${param} must be a UUID` }]);
  }
  return { by, value: by === 'id' ? value.toLowerCase() : value };
}

/** Membership first, then existence: a non-member cannot tell whether the org exists. */
function checkMembership(actor: Actor, membership: OrgContext | null, ref: OrgRef, route: ProtectedRoute): OrgContext {
  if (!membership) throw new NotOrgMemberError(ref.value);
  if (actor.token?.orgId && actor.token.orgId !== membership.id) {
    throw new ForbiddenError('This token is not scoped to this organization');
  }
  if (!roleHasPermission(membership.role, route.permission)) {
    throw new ForbiddenError(`Your role (${membership.role}) does not allow this action`);
  }
  return membership;
}

/** The admin API is instance-wide: a token narrowed to one org may not use it, even an admin's. */
function checkAdmin(actor: Actor, route: ProtectedRoute): void {
  if (!PERMISSION_INFO[route.permission].adminOnly) return;
  if (!actor.isAdmin) throw new ForbiddenError('Only instance administrators may use the admin API');
  // Whoever first registers an address of SECR_ADMIN_EMAILS is marked admin: proving the address counts.
  if (!actor.emailVerified) throw new ForbiddenError('Instance administrators must verify their email address before using the admin API');
  if (actor.token?.orgId) throw new ForbiddenError('The admin API needs a token that is not scoped to an organization');
}

/** Effective permission = role permission ∩ token scope. */
function checkTokenScope(actor: Actor, route: ProtectedRoute): void {
  if (!actor.token) return;
  const info = PERMISSION_INFO[route.permission];
  if (info.sessionOnly) throw new ForbiddenError('This action needs a signed-in session; API tokens cannot perform it');
  if (info.access === 'write' && actor.token.access === 'read') {
    throw new ForbiddenError('This token is read-only');
  }
  if (info.wholeAccount && actor.token.orgId !== null) {
    throw new ForbiddenError('This action needs a signed-in session or a token that is not scoped to an organization');
  }
  const narrowed = actor.token.projectId !== null || actor.token.environments !== null;
  if (narrowed && info.scope === 'org' && !info.narrowable) {
    throw new ForbiddenError('This token is limited to one project or to some environments; this action needs a token for the whole organization');
  }
}
