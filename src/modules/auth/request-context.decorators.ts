import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Actor, OrgContext, RequestMeta } from './request-context.js';

const request = (ctx: ExecutionContext): FastifyRequest => ctx.switchToHttp().getRequest<FastifyRequest>();

/** The authenticated caller (set by AuthGuard; routes without it are public). */
export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const actor = request(ctx).actor;
  if (!actor) throw new Error('CurrentActor used on a route without authentication');
  return actor;
});

/** The org named by the route, with the caller's role in it (set by AuthGuard). */
export const CurrentOrg = createParamDecorator((_: unknown, ctx: ExecutionContext): OrgContext => {
  const org = request(ctx).org;
  if (!org) throw new Error('CurrentOrg used on a route that is not org-scoped');
  return org;
});

export const ReqMeta = createParamDecorator((_: unknown, ctx: ExecutionContext): RequestMeta => requestMeta(request(ctx)));

export function requestMeta(req: FastifyRequest): RequestMeta {
  const userAgent = req.headers['user-agent'];
  return { ip: req.ip, userAgent: userAgent ? userAgent.slice(0, 512) : null, requestId: req.id };
}
