import { createParamDecorator, ExecutionContext, Injectable, PipeTransform } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Actor, OrgContext } from '../../common/auth/actor.js';
import { VaultAccess, type AccessMode, type VaultTarget } from './vault-access.service.js';

interface VaultTargetRef {
  org: OrgContext;
  actor: Actor;
  project: string;
  env: string;
  mode: AccessMode;
}

/** What the route names: `:project` and `:env`, with the caller and org AuthGuard resolved. */
const TargetRef = createParamDecorator((mode: AccessMode, ctx: ExecutionContext): VaultTargetRef => {
  const req = ctx.switchToHttp().getRequest<FastifyRequest>();
  const params = req.params as Record<string, string>;
  if (!req.org || !req.actor) throw new Error('@Target used on a route that is not org-scoped');
  return { org: req.org, actor: req.actor, project: params.project, env: params.env, mode };
});

/** Resolves a TargetRef through VaultAccess: existence (404), token scope and tier (403). */
@Injectable()
export class ResolveVaultTarget implements PipeTransform<VaultTargetRef, Promise<VaultTarget>> {
  constructor(private readonly access: VaultAccess) {}

  transform(ref: VaultTargetRef): Promise<VaultTarget> {
    return this.access.environment(ref.org, ref.project, ref.env, ref.actor, ref.mode);
  }
}

/**
 * The project and environment of a `…/:project/:env…` route, resolved and access-checked for reading
 * or writing (the second level of authorisation, STYLE.md 5).
 */
export const Target = (mode: AccessMode): ParameterDecorator => TargetRef(mode, ResolveVaultTarget);
