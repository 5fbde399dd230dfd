import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager, IsNull, MoreThan } from 'typeorm';
import { ValidationFailedError } from '../../common/errors/domain-error.js';
import { canonicalEnvironment } from '../projects/environments.js';
import type { Actor, Authenticated, RequestMeta } from '../../common/auth/actor.js';
import { membershipFrom, membershipJoin, type MembershipColumns, type OrgRef } from '../orgs/orgs.service.js';
import { AuditService } from '../audit/audit.service.js';
import { PlansService } from '../plans/plans.service.js';
import { usage } from '../plans/usage.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { PreparedSql } from '../../database/prepared-sql.js';
import { StatementBatcher } from '../../database/statement-batcher.js';
import { Membership } from '../orgs/membership.entity.js';
import { ApiToken } from './api-token.entity.js';
import { CreatedTokenDto, CreateTokenDto, TokenDto } from './auth.dto.js';
import { TokenNotFoundError, TokenScopeError } from './auth.errors.js';
import { generateToken, hashesEqual, looksLikeToken, sha256 } from './credentials.js';

interface TokenLookup {
  hash: Buffer;
  /** The org's id or slug, as the route names it; null without one. */
  org: string | null;
}

type TokenRow = MembershipColumns & Record<string, any> & { ord: string };

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
      if (orgId && !(await em.existsBy(Membership, { orgId, userId: actor.userId }))) {
        throw new TokenScopeError(`You are not a member of organization '${orgId}'`);
      }
      if (projectId) await assertProjectHasEnvironments(em, orgId!, projectId, environments);
      await this.plans.assertUserCanAdd(em, actor.userId, { limit: 'tokensPerUser', scopeId: actor.userId, adding: 1, usage: usage.tokens(actor.userId) });
      const token = em.create(ApiToken, {
        userId: actor.userId,
        name: dto.name,
        kind,
        tokenHash: secret.hash,
        hint: secret.hint,
        orgId,
        projectId,
        environments,
        access: dto.access,
        expiresAt: expiryOf(actor, days),
      });
      await em.save(token);
      await this.audit.record(em, {
        action: 'token.created',
        orgId,
        actor,
        meta,
        metadata: { tokenId: token.id, name: token.name, kind, access: token.access, projectId, environments, expiresAt: token.expiresAt },
      });
      return token;
    });
    return { ...toTokenDto(saved), token: secret.token };
  }

  /** The user's active tokens; a token scoped to one org sees only that org's tokens. */
  async list(actor: Actor): Promise<TokenDto[]> {
    const tokens = await this.db.getRepository(ApiToken).find({
      where: { userId: actor.userId, ...orgFilter(actor), revokedAt: IsNull(), expiresAt: MoreThan(new Date()) },
      order: { createdAt: 'DESC' },
    });
    return tokens.map(toTokenDto);
  }

  async revoke(actor: Actor, tokenId: string, meta: RequestMeta): Promise<void> {
    await this.db.transaction(async (em) => {
      const result = await em.update(
        ApiToken,
        { id: tokenId, userId: actor.userId, ...orgFilter(actor), revokedAt: IsNull() },
        { revokedAt: new Date() },
      );
      if (!result.affected) throw new TokenNotFoundError(tokenId);
      await this.audit.record(em, { action: 'token.revoked', actor, meta, metadata: { tokenId } });
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

/** An org-scoped token acts only on tokens of its org (it cannot list or revoke the user's others). */
function orgFilter(actor: Actor): { orgId?: string } {
  return actor.token?.orgId ? { orgId: actor.token.orgId } : {};
}

interface Scope {
  orgId: string | null;
  projectId: string | null;
  environments: string[] | null;
}

/** A token may mint tokens, but none broader than itself. */
function assertNoBroaderThan(actor: Actor, scope: Scope): void {
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

async function assertProjectHasEnvironments(em: EntityManager, orgId: string, projectId: string, environments: string[] | null): Promise<void> {
  const rows: Array<{ slug: string | null }> = await em.query(
    `SELECT e.slug FROM projects p LEFT JOIN environments e ON e.project_id = p.id WHERE p.id = $1 AND p.org_id = $2`,
    [projectId, orgId],
  );
  if (!rows.length) throw new ValidationFailedError([{ field: 'projectId', message: 'projectId is not a project of orgId' }]);
  const missing = (environments ?? []).filter((env) => !rows.some((r) => r.slug === env));
  if (missing.length) {
    throw new ValidationFailedError([{ field: 'environments', message: `No such environments in the project: ${missing.join(', ')}` }]);
  }
}

export function toTokenDto(t: ApiToken): TokenDto {
  return {
    id: t.id,
    name: t.name,
    kind: t.kind,
    hint: t.hint,
    orgId: t.orgId,
    projectId: t.projectId,
    environments: t.environments,
    access: t.access,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    lastUsedAt: t.lastUsedAt,
  };
}
