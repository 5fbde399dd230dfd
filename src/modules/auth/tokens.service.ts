import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ValidationFailedError } from '../../common/errors/domain-error.js';
import { canonicalEnvironment } from '../projects/environments.js';
import type { Actor, Authenticated, OrgRef, RequestMeta } from './request-context.js';
import { membershipFrom, membershipJoin, type MembershipColumns } from './caller-membership.js';
import { AuditService } from '../audit/audit.service.js';
import { PlansService } from '../plans/plans.service.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { PreparedSql } from '../../database/prepared-sql.js';
import { StatementBatcher } from '../../database/statement-batcher.js';
import { OrgsRepository } from '../orgs/orgs.repository.js';
import { ProjectsRepository } from '../projects/projects.repository.js';
import type { TokenAccess, TokenKind } from './api-token.entity.js';
import type { UserColumns } from './sessions.service.js';
import { CreatedTokenDto, CreateTokenDto, TokenDto } from './auth.dto.js';
import { TokenNotFoundError, TokenScopeError } from './auth.errors.js';
import { hashesEqual, sha256 } from '../../common/crypto/hash.js';
import { generateToken, looksLikeToken } from './credentials.js';

interface TokenLookup {
  hash: Buffer;
  /** The org's id or slug, as the route names it; null without one. */
  org: string | null;
}

type TokenRow = MembershipColumns &
  Omit<UserColumns, 'id'> & {
    ord: string;
    id: string;
    token_hash: Buffer;
    org_id: string | null;
    project_id: string | null;
    environments: string[] | null;
    access: TokenAccess;
    last_used_at: Date | null;
    expires_at: Date;
    user_id: string;
  };

interface TokenListRow {
  id: string;
  name: string;
  kind: TokenKind;
  hint: string;
  org_id: string | null;
  project_id: string | null;
  environments: string[] | null;
  access: TokenAccess;
  created_at: Date;
  expires_at: Date;
  last_used_at: Date | null;
}

interface NewTokenRow {
  name: string;
  kind: TokenKind;
  hash: Buffer;
  hint: string;
  orgId: string | null;
  projectId: string | null;
  environments: string[] | null;
  access: TokenAccess;
  expiresAt: Date;
  /** Minted by an OIDC exchange through this trust relationship. */
  oidcTrustId?: string;
}

/** What an OIDC trust relationship grants, for one exchange (modules/auth/oidc). */
export interface OidcGrant {
  /** The member who created the relationship: the token carries their role ∩ this scope. */
  userId: string;
  trustId: string;
  name: string;
  orgId: string;
  projectId: string;
  environments: string[] | null;
  access: TokenAccess;
  expiresAt: Date;
}

/** Write `last_used_at` at most this often per token, to keep writes off the hot read path. */
const LAST_USED_RESOLUTION_MS = 60_000;

@Injectable()
export class TokensService {
  private readonly logger = new Logger(TokensService.name);

  constructor(
    private readonly db: DataSource,
    private readonly sql: PreparedSql,
    private readonly audit: AuditService,
    private readonly plans: PlansService,
    private readonly orgs: OrgsRepository,
    private readonly projects: ProjectsRepository,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async create(actor: Actor, dto: CreateTokenDto, meta: RequestMeta): Promise<CreatedTokenDto> {
    const orgId = dto.orgId ?? null;
    const projectId = dto.projectId ?? null;
    const environments = dto.environments ? [...new Set(dto.environments.map(canonicalEnvironment))] : null;
    if (projectId && !orgId) throw new ValidationFailedError([{ field: 'projectId', message: 'projectId requires orgId' }]);
    assertNoBroaderThan(actor, { orgId, projectId, environments });
    const kind = dto.kind ?? 'api';
    const days = dto.expiresInDays ?? this.config.tokenDefaultTtlDays;
    const secret = generateToken(kind);

    const saved = await this.db.transaction(async (em) => {
      if (actor.token && (await isOidcMinted(em, actor.token.id))) {
        throw new TokenScopeError(
          'A token minted by an OIDC exchange cannot create tokens: they would outlive the trust relationship; give the step a trust relationship of its own',
        );
      }
      if (orgId && !(await this.orgs.isMember(em, orgId, actor.userId))) {
        throw new TokenScopeError(`You are not a member of organization '${orgId}'`);
      }
      if (projectId) assertProjectHasEnvironments(await this.projects.environmentSlugsOf(em, orgId!, projectId), environments);
      return this.insert(
        em,
        actor,
        { name: dto.name, kind, hash: secret.hash, hint: secret.hint, orgId, projectId, environments, access: dto.access, expiresAt: expiryOf(actor, days) },
        meta,
        {
          projectId,
          environments,
        },
      );
    });
    return { ...saved, token: secret.token };
  }

  /**
   * Mints an unscoped read-write CLI token for `userId` inside `em` (the browser sign-in of the CLI:
   * the cli-login flow), under the same plan limit and audit as every other token.
   */
  async mintCliToken(em: EntityManager, userId: string, name: string, meta: RequestMeta, auditMetadata: Record<string, unknown>): Promise<CreatedTokenDto> {
    const secret = generateToken('cli');
    const expiresAt = new Date(Date.now() + this.config.tokenDefaultTtlDays * 86_400_000);
    const token = await this.insert(
      em,
      { userId },
      { name, kind: 'cli', hash: secret.hash, hint: secret.hint, orgId: null, projectId: null, environments: null, access: 'read_write', expiresAt },
      meta,
      auditMetadata,
    );
    return { ...token, token: secret.token };
  }

  /**
   * Mints the short-lived `secr_tok_` of an OIDC exchange inside `em`, audited like every token. It is
   * not counted against the owner's tokensPerUser: it is the pipeline's, it lives an hour at most, and
   * how many can exist is bounded by the per-org exchange rate limit.
   */
  async mintOidcToken(em: EntityManager, grant: OidcGrant, meta: RequestMeta, auditMetadata: Record<string, unknown>): Promise<CreatedTokenDto> {
    const secret = generateToken('api');
    const row: NewTokenRow = {
      name: grant.name,
      kind: 'api',
      hash: secret.hash,
      hint: secret.hint,
      orgId: grant.orgId,
      projectId: grant.projectId,
      environments: grant.environments,
      access: grant.access,
      expiresAt: grant.expiresAt,
      oidcTrustId: grant.trustId,
    };
    const token = await this.insert(em, { userId: grant.userId }, row, meta, auditMetadata);
    return { ...token, token: secret.token };
  }

  /** Org deletion: deletes every token scoped to the org (they stop working at once). */
  async deleteOrgScoped(em: EntityManager, orgId: string): Promise<void> {
    await em.query('DELETE FROM api_tokens WHERE org_id = $1', [orgId]);
  }

  /** Revokes the live tokens minted through a trust relationship (it is being deleted); returns how many. */
  async revokeOidcTokens(em: EntityManager, trustId: string): Promise<number> {
    const rows: Array<{ id: string }> = await em.query(
      `WITH revoked AS (
         UPDATE api_tokens SET revoked_at = now() WHERE oidc_trust_id = $1 AND revoked_at IS NULL AND expires_at > now() RETURNING id)
       SELECT id FROM revoked`,
      [trustId],
    );
    return rows.length;
  }

  /** The one INSERT of api_tokens: plan limit, row, audit. */
  private async insert(
    em: EntityManager,
    actor: Pick<Actor, 'userId'> & Partial<Actor>,
    row: NewTokenRow,
    meta: RequestMeta,
    auditMetadata: Record<string, unknown>,
  ): Promise<TokenDto> {
    if (!row.oidcTrustId) {
      await this.plans.assertUserCanAdd(em, actor.userId, {
        limit: 'tokensPerUser',
        scopeId: actor.userId,
        adding: 1,
        usage: (locked) => countLiveTokens(locked, actor.userId),
      });
    }
    const [inserted]: TokenListRow[] = await em.query(
      `INSERT INTO api_tokens (user_id, name, kind, token_hash, hint, org_id, project_id, environments, access, expires_at, oidc_trust_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       RETURNING id, name, kind, hint, org_id, project_id, environments, access, created_at, expires_at, last_used_at`,
      [actor.userId, row.name, row.kind, row.hash, row.hint, row.orgId, row.projectId, row.environments, row.access, row.expiresAt, row.oidcTrustId ?? null],
    );
    const token = toTokenDto(inserted);
    await this.audit.record(em, {
      action: 'token.created',
      orgId: row.orgId,
      actor,
      meta,
      metadata: { tokenId: token.id, name: token.name, kind: row.kind, access: token.access, ...auditMetadata, expiresAt: token.expiresAt },
    });
    return token;
  }

  /** The user's active tokens; a token scoped to one org sees only that org's tokens. */
  async list(actor: Actor): Promise<TokenDto[]> {
    const scope = scopeFilter(actor);
    const rows: TokenListRow[] = await this.db.query(
      `SELECT t.id, t.name, t.kind, t.hint, t.org_id, t.project_id, t.environments, t.access, t.created_at, t.expires_at, t.last_used_at
         FROM api_tokens t
        WHERE t.user_id = $1 AND t.revoked_at IS NULL AND t.expires_at > now() AND ${scope.sql(2)}
        ORDER BY t.created_at DESC`,
      [actor.userId, ...scope.params],
    );
    return rows.map(toTokenDto);
  }

  async revoke(actor: Actor, tokenId: string, meta: RequestMeta): Promise<void> {
    await this.db.transaction(async (em) => {
      const scope = scopeFilter(actor);
      const rows: Array<{ org_id: string | null }> = await em.query(
        // In a CTE: TypeORM returns [rows, count] for a bare UPDATE … RETURNING.
        `WITH revoked AS (
           UPDATE api_tokens t SET revoked_at = now()
            WHERE t.id = $1 AND t.user_id = $2 AND t.revoked_at IS NULL AND ${scope.sql(3)}
            RETURNING t.org_id)
         SELECT org_id FROM revoked`,
        [tokenId, actor.userId, ...scope.params],
      );
      if (!rows.length) throw new TokenNotFoundError(tokenId);
      // In the org's audit log too when the token was scoped to one.
      await this.audit.record(em, { action: 'token.revoked', orgId: rows[0].org_id, actor, meta, metadata: { tokenId } });
    });
  }

  /**
   * The actor for a bearer token, or `null` when it is malformed, unknown, expired or revoked; with
   * `org`, also the actor's membership in that org, from the same query.
   */
  async verify(presented: string, org?: OrgRef): Promise<Authenticated | null> {
    if (!looksLikeToken(presented)) return null;
    const hash = sha256(presented);
    const row = await this.lookups[org?.by ?? 'account'].run({ hash, org: org?.value ?? null });
    if (!row || !hashesEqual(row.token_hash, hash)) return null;
    this.touch(row.id, row.last_used_at);
    return {
      actor: {
        userId: row.user_id,
        email: row.email,
        isAdmin: row.is_admin,
        emailVerified: row.email_verified,
        via: 'token',
        token: {
          id: row.id,
          orgId: row.org_id,
          projectId: row.project_id,
          environments: row.environments,
          access: row.access,
          expiresAt: row.expires_at,
        },
      },
      membership: membershipFrom(row),
    };
  }

  /**
   * Every request with a token looks it up; the lookups of concurrent requests go to PostgreSQL as one
   * statement (StatementBatcher), one per kind of org reference. Each row answers the lookup at its
   * position (`ord`), so no request can see another's token.
   */
  private readonly lookups = {
    account: this.lookupBatcher(undefined),
    id: this.lookupBatcher('id'),
    slug: this.lookupBatcher('slug'),
  };

  private lookupBatcher(by: OrgRef['by'] | undefined): StatementBatcher<TokenLookup, TokenRow | undefined> {
    const membership = membershipJoin('u.id', 'r.org', by);
    const text = `
      SELECT r.ord, t.id, t.token_hash, t.org_id, t.project_id, t.environments, t.access, t.last_used_at, t.expires_at,
             u.id AS user_id, u.email, u.is_admin, u.email_verified_at IS NOT NULL AS email_verified, ${membership.select}
        FROM unnest($1::bytea[], $2::text[]) WITH ORDINALITY AS r(hash, org, ord)
        JOIN api_tokens t ON t.token_hash = r.hash
        JOIN users u ON u.id = t.user_id ${membership.join}
       WHERE t.revoked_at IS NULL AND t.expires_at > now()`;
    return new StatementBatcher(async (lookups) => {
      const rows = await this.sql.query<TokenRow>(`token-verify-${by ?? 'account'}`, text, [lookups.map((l) => l.hash), lookups.map((l) => l.org)]);
      const byPosition = new Map(rows.map((row) => [Number(row.ord), row]));
      return lookups.map((_, i) => byPosition.get(i + 1));
    });
  }

  private touch(tokenId: string, lastUsedAt: Date | null): void {
    if (lastUsedAt && Date.now() - lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
    this.db
      .query('UPDATE api_tokens SET last_used_at = now() WHERE id = $1', [tokenId])
      .catch((err: unknown) => this.logger.warn({ err }, 'Could not record token use'));
  }
}

/** A token minted by a token expires no later than its parent. */
function expiryOf(actor: Actor, days: number): Date {
  const requested = new Date(Date.now() + days * 86_400_000);
  const parent = actor.token?.expiresAt;
  return parent && parent < requested ? parent : requested;
}

/**
 * The tokens a caller may see and revoke: all of the user's with a session or an unscoped token; with a
 * scoped token only those no broader than it: of its org, and when it is narrowed, of its project and
 * within its environments. SQL on the alias `t`, parameters numbered from `first`.
 */
function scopeFilter(actor: Actor): { sql: (first: number) => string; params: unknown[] } {
  const token = actor.token;
  if (!token?.orgId) return { sql: () => 'TRUE', params: [] };
  const params: unknown[] = [token.orgId, token.projectId, token.environments];
  return {
    sql: (n) =>
      `t.org_id = $${n}::uuid` +
      ` AND ($${n + 1}::uuid IS NULL OR t.project_id = $${n + 1}::uuid)` +
      ` AND ($${n + 2}::text[] IS NULL OR (t.environments IS NOT NULL AND t.environments <@ $${n + 2}::text[]))`,
    params,
  };
}

export interface TokenRevocation {
  actor: Pick<Actor, 'userId' | 'token'> | null;
  meta: RequestMeta;
  /** Why, for the audit rows: `password_changed`, `password_reset`, `member_removed`. */
  reason: string;
}

/**
 * Revokes the user's active tokens (only those scoped to `orgId` when given), in the caller's
 * transaction, with one `token.revoked` audit row per token, in its org's log when it has one.
 * Returns how many were revoked.
 */
export async function revokeTokensOf(em: EntityManager, audit: AuditService, which: { userId: string; orgId?: string }, how: TokenRevocation): Promise<number> {
  const rows: Array<{ id: string; org_id: string | null }> = await em.query(
    `WITH revoked AS (
       UPDATE api_tokens SET revoked_at = now()
        WHERE user_id = $1 AND ($2::uuid IS NULL OR org_id = $2::uuid) AND revoked_at IS NULL AND expires_at > now()
        RETURNING id, org_id, created_at)
     SELECT id, org_id FROM revoked ORDER BY created_at, id`,
    [which.userId, which.orgId ?? null],
  );
  for (const row of rows) {
    await audit.record(em, {
      action: 'token.revoked',
      orgId: row.org_id,
      actor: how.actor,
      meta: how.meta,
      metadata: { tokenId: row.id, userId: which.userId, reason: how.reason },
    });
  }
  return rows.length;
}

interface Scope {
  orgId: string | null;
  projectId: string | null;
  environments: string[] | null;
}

/** A token may mint tokens, but none broader than itself (nor grant more through an OIDC trust relationship). */
export function assertNoBroaderThan(actor: Actor, scope: Scope): void {
  const parent = actor.token;
  if (!parent) return;
  if (parent.orgId && scope.orgId !== parent.orgId) {
    throw new TokenScopeError('A token scoped to one organization can only create tokens for that organization');
  }
  if (parent.projectId && scope.projectId !== parent.projectId) {
    throw new TokenScopeError('A token scoped to one project can only create tokens for that project');
  }
  if (parent.environments && !scope.environments?.every((env) => parent.environments!.includes(env))) {
    throw new TokenScopeError('A token scoped to some environments can only create tokens for those environments');
  }
}

/**
 * Whether the token was minted by an OIDC exchange. Such a token mints no tokens (README, Keyless CI):
 * a child would not name the relationship, so deleting it, or taking back the account that created it,
 * would leave the child working; and the pipeline already holds the narrowest credential it needs for
 * as long as it needs it. A step that should get less is given a relationship of its own.
 */
async function isOidcMinted(em: EntityManager, tokenId: string): Promise<boolean> {
  const [row]: Array<{ oidc: boolean }> = await em.query('SELECT oidc_trust_id IS NOT NULL AS oidc FROM api_tokens WHERE id = $1', [tokenId]);
  return row?.oidc ?? false;
}

/** What tokensPerUser counts: tokens that still work (not revoked, not expired), but not those of CI OIDC exchanges. */
async function countLiveTokens(em: EntityManager, userId: string): Promise<number> {
  const [row]: Array<{ n: number }> = await em.query(
    'SELECT count(*)::int AS n FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() AND oidc_trust_id IS NULL',
    [userId],
  );
  return row.n;
}

/** `slugs`: the environments of the project, null when it is not a project of the org. */
function assertProjectHasEnvironments(slugs: string[] | null, environments: string[] | null): void {
  if (!slugs) throw new ValidationFailedError([{ field: 'projectId', message: 'projectId is not a project of orgId' }]);
  const missing = (environments ?? []).filter((env) => !slugs.includes(env));
  if (missing.length) {
    throw new ValidationFailedError([{ field: 'environments', message: `No such environments in the project: ${missing.join(', ')}` }]);
  }
}

/** A row of api_tokens (without its hash) as the API shows it. */
export function toTokenDto(r: TokenListRow): TokenDto {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    hint: r.hint,
    orgId: r.org_id,
    projectId: r.project_id,
    environments: r.environments,
    access: r.access,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
  };
}
