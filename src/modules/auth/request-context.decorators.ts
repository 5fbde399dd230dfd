import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { OrgRequestContext, RequestContext, RequestMeta } from './request-context.js';

const request = (ctx: ExecutionContext): FastifyRequest => ctx.switchToHttp().getRequest<FastifyRequest>();

/**
 * The request context of an authenticated route, set by AuthGuard: the actor (with its token's scope,
 * `actor.token`), the org the route names with the caller's role in it (org-scoped routes only), and
 * the request facts the audit log records. Handlers take this one parameter instead of one per fact.
 */
export const Ctx = createParamDecorator((_: unknown, ctx: ExecutionContext): RequestContext | OrgRequestContext => {
  const req = request(ctx);
  if (!req.actor) throw new Error('Ctx used on a route without authentication');
  return req.org ? { actor: req.actor, org: req.org, meta: requestMeta(req) } : { actor: req.actor, meta: requestMeta(req) };
});

/** The request facts alone, for public routes (no caller). */
export const ReqMeta = createParamDecorator((_: unknown, ctx: ExecutionContext): RequestMeta => requestMeta(request(ctx)));

export function requestMeta(req: FastifyRequest): RequestMeta {
  const userAgent = req.headers['user-agent'];
  return { ip: req.ip, userAgent: userAgent ? userAgent.slice(0, 512) : null, requestId: req.id };
}
