import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthorizedError, ValidationFailedError } from '../errors/domain-error.js';
import { Authenticator } from '../../modules/auth/authenticator.service.js';
import { NotOrgMemberError } from '../../modules/orgs/orgs.errors.js';
import { OrgsService } from '../../modules/orgs/orgs.service.js';
import { UUID_PATTERN } from '../validation/parse-uuid.pipe.js';
import type { Actor } from './actor.js';
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
    private readonly orgs: OrgsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const route = this.reflector.get<RouteOptions | undefined>(ROUTE_METADATA, context.getHandler());
    if (!route) throw new ForbiddenError('This route has no access rule');
    if ('public' in route) return true;

    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const actor = await this.authenticator.authenticate(req);
    if (!actor) throw new UnauthorizedError();
    if (actor.via === 'session' && !SAFE_METHODS.has(req.method) && req.headers[CSRF_HEADER] !== CSRF_VALUE) {
      throw new ForbiddenError(`Cookie-authenticated requests that change state must send the header X-Requested-With: ${CSRF_VALUE}`);
    }
    checkTokenScope(actor, route);
    req.actor = actor;

    if (PERMISSION_INFO[route.permission].scope === 'org') {
      req.org = await this.resolveOrg(req, actor, route);
    }
    return true;
  }

  private async resolveOrg(req: FastifyRequest, actor: Actor, route: ProtectedRoute) {
    const { param, by } = route.org!;
    const value = (req.params as Record<string, string>)[param];
    if (by === 'id' && !UUID_PATTERN.test(value)) {
      throw new ValidationFailedError([{ field: param, message: `${param} must be a UUID` }]);
    }
    // Membership first, then existence: a non-member cannot tell whether the org exists.
    const org = await this.orgs.access({ by, value: by === 'id' ? value.toLowerCase() : value }, actor.userId);
    if (!org) throw new NotOrgMemberError(value);
    if (actor.token?.orgId && actor.token.orgId !== org.id) {
      throw new ForbiddenError('This token is not scoped to this organization');
    }
    if (!roleHasPermission(org.role, route.permission)) {
      throw new ForbiddenError(`Your role (${org.role}) does not allow this action`);
    }
    return org;
  }
}

/** Effective permission = role permission ∩ token scope. */
function checkTokenScope(actor: Actor, route: ProtectedRoute): void {
  if (!actor.token) return;
  const info = PERMISSION_INFO[route.permission];
  if (info.sessionOnly) throw new ForbiddenError('This action needs a signed-in session; API tokens cannot perform it');
  if (info.access === 'write' && actor.token.access === 'read') {
    throw new ForbiddenError('This token is read-only');
  }
}
