import type { Role } from '../../common/auth/permissions.js';
import type { TokenAccess } from './api-token.entity.js';

/** Who is calling: set by `AuthGuard` on every authenticated request. */
export interface Actor {
  readonly userId: string;
  readonly email: string;
  readonly isAdmin: boolean;
  /** Instance admin rights need a verified address too (SECR_ADMIN_EMAILS names addresses, not people). */
  readonly emailVerified: boolean;
  readonly via: 'session' | 'token';
  readonly sessionId?: string;
  readonly token?: {
    readonly id: string;
    /** `null` = every org of the owner. */
    readonly orgId: string | null;
    /** `null` = every project of the org. */
    readonly projectId: string | null;
    /** Canonical environment slugs; `null` = every environment. */
    readonly environments: readonly string[] | null;
    readonly access: TokenAccess;
    /** A token cannot mint tokens that outlive it. */
    readonly expiresAt: Date;
  };
}

/** The org a route acts on, resolved and access-checked by `AuthGuard`. */
export interface OrgContext {
  readonly id: string;
  readonly slug: string;
  readonly role: Role;
}

/** A verified credential; `membership` is the actor's place in the org the route names, if it names one. */
export interface Authenticated {
  readonly actor: Actor;
  readonly membership: OrgContext | null;
}

/** Request facts the audit log records. */
export interface RequestMeta {
  readonly ip: string;
  readonly userAgent: string | null;
  readonly requestId: string;
}

/** An org named by a route parameter: by id or by slug. */
export interface OrgRef {
  readonly by: 'id' | 'slug';
  readonly value: string;
}

/**
 * Everything a handler needs to know about the caller, set by `AuthGuard`: who (`actor`, whose `token`
 * carries the token's scope), in which org (org-scoped routes only) and the request facts for the audit.
 */
export interface RequestContext {
  readonly actor: Actor;
  readonly meta: RequestMeta;
}

/** The context of an org-scoped route: the org is resolved and the caller's role in it checked. */
export interface OrgRequestContext extends RequestContext {
  readonly org: OrgContext;
}

declare module 'fastify' {
  interface FastifyRequest {
    actor?: Actor;
    org?: OrgContext;
    /** The org the route names, for the credential strategies to resolve the membership in the same query. */
    orgRef?: OrgRef;
    /** The exact request bytes; set only on the Stripe webhook route (app.factory.ts). */
    rawBody?: Buffer;
  }
}
