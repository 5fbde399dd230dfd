import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthorizedError, ValidationFailedError } from '../errors/domain-error.js';
import { Authenticator } from '../../modules/auth/authenticator.service.js';
import { NotOrgMemberError } from '../../modules/orgs/orgs.errors.js';
import type { OrgRef } from '../../modules/orgs/orgs.service.js';
import { UUID_PATTERN } from '../validation/parse-uuid.pipe.js';
import type { Actor, OrgContext } from './actor.js';
import { PERMISSION_INFO, roleHasPermission } from './permissions.js';
import { ROUTE_METADATA, type ProtectedRoute, type RouteOptions } from './route.decorator.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_HEADER = 'x-requested-with';
export const CSRF_VALUE = 'secr';

/**
 * Global and deny-by-default (APP_GUARD): a handler without `@Route` is refused. For a protected route
 * it authenticates, applies the CSRF rule to cookie sessions, intersects the token's scope, and for
 * org-scoped permissions resolves the org and checks the caller's role (DESIGN.md §4).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const route = this.reflector.get<RouteOptions | undefined>(ROUTE_METADATA, context.getHandler());
    if (!route) throw new ForbiddenError('This route has no access rule');
    if ('public' in route) return true;

    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const orgRef = PERMISSION_INFO[route.permission].scope === 'org' ? orgRefOf(req, route) : undefined;
    // Credential and membership in one query; a malformed org id is reported only to the authenticated.
    const verified = await this.authenticator.authenticate(req, orgRef instanceof ValidationFailedError ? undefined : orgRef);
    if (!verified) throw new UnauthorizedError();
    const { actor, membership } = verified;
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
