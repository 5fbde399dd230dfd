import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ValidationFailedError } from '../../../common/errors/domain-error.js';
import { preflightUrl } from '../../../common/net/guarded-lookup.js';
import { RefusedTargetError } from '../../../common/net/ssrf.js';
import { CONFIG, type AppConfig } from '../../../config/config.js';
import { AuditService } from '../../audit/audit.service.js';
import { canonicalEnvironment } from '../../projects/environments.js';
import { ProjectsRepository } from '../../projects/projects.repository.js';
import type { ProjectRef } from '../../projects/vault-access.service.js';
import type { Actor, OrgContext, RequestMeta } from '../request-context.js';
import { assertNoBroaderThan, TokensService, type TokenRevocation } from '../tokens.service.js';
import { isVacuous } from './claim-conditions.js';
import { OIDC_TTL_DEFAULT_SECONDS, type ClaimConditionDto, type CreateOidcTrustDto, type OidcTrustDto, type UpdateOidcTrustDto } from './oidc.dto.js';
import { OidcIssuerError, OidcTrustNameTakenError, OidcTrustNotFoundError } from './oidc.errors.js';
import { OidcTrustsRepository, toTrustDto } from './oidc-trusts.repository.js';

/**
 * Trust relationships with CI OIDC issuers (owner/admin). A relationship grants what its creator may
 * grant: no more than the creator's token when created with one (the scoped-token rule), and at
 * exchange time the minted token carries the creator's current role ∩ the granted scope.
 */
@Injectable()
export class OidcTrustsService {
  constructor(
    private readonly db: DataSource,
    private readonly trusts: OidcTrustsRepository,
    private readonly projects: ProjectsRepository,
    private readonly tokens: TokensService,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  list(org: OrgContext): Promise<OidcTrustDto[]> {
    return this.trusts.list(org.id).then((rows) => rows.map(toTrustDto));
  }

  async get(org: OrgContext, id: string): Promise<OidcTrustDto> {
    const trust = await this.trusts.get(this.db, org.id, id);
    if (!trust) throw new OidcTrustNotFoundError(id);
    return toTrustDto(trust);
  }

  async create(org: OrgContext, project: ProjectRef, actor: Actor, dto: CreateOidcTrustDto, meta: RequestMeta): Promise<OidcTrustDto> {
    const issuer = this.checkIssuer(dto.issuer);
    const vacuous = dto.conditions.findIndex((c) => isVacuous(c.pattern));
    if (vacuous >= 0) {
      throw new ValidationFailedError([
        { field: `conditions.${vacuous}.pattern`, message: 'pattern must pin something down: wildcards alone match every token' },
      ]);
    }
    const environments = dto.environments ? [...new Set(dto.environments.map(canonicalEnvironment))] : null;
    assertNoBroaderThan(actor, { orgId: org.id, projectId: project.id, environments });
    return this.db.transaction(async (em) => {
      const slugs = await this.projects.environmentSlugsOf(em, org.id, project.id);
      const missing = (environments ?? []).filter((env) => !slugs?.includes(env));
      if (missing.length) throw new ValidationFailedError([{ field: 'environments', message: `No such environments in the project: ${missing.join(', ')}` }]);
      const ttlSeconds = dto.ttlSeconds ?? OIDC_TTL_DEFAULT_SECONDS;
      const conditions = dto.conditions.map((c) => ({ claim: c.claim, pattern: c.pattern }));
      const id = await this.trusts.insert(em, {
        orgId: org.id,
        name: dto.name,
        issuer,
        audience: dto.audience,
        conditions,
        projectId: project.id,
        environments,
        access: dto.access,
        ttlSeconds,
        createdBy: actor.userId,
      });
      if (!id) throw new OidcTrustNameTakenError(dto.name);
      await this.audit.record(em, {
        action: 'oidc_trust.created',
        orgId: org.id,
        actor,
        meta,
        metadata: {
          trustId: id,
          name: dto.name,
          issuer,
          audience: dto.audience,
          conditions,
          projectId: project.id,
          environments,
          access: dto.access,
          ttlSeconds,
        },
      });
      return toTrustDto((await this.trusts.get(em, org.id, id))!);
    });
  }

  async update(org: OrgContext, actor: Actor, id: string, dto: UpdateOidcTrustDto, meta: RequestMeta): Promise<OidcTrustDto> {
    if (dto.conditions) assertConditionsPinDown(dto.conditions);
    const environments = dto.environments === undefined ? undefined : dto.environments && [...new Set(dto.environments.map(canonicalEnvironment))];
    return this.db.transaction(async (em) => {
      const trust = await this.trusts.get(em, org.id, id);
      if (!trust) throw new OidcTrustNotFoundError(id);
      if (environments !== undefined) {
        assertNoBroaderThan(actor, { orgId: org.id, projectId: trust.projectId, environments });
        await this.assertEnvironmentsExist(em, org.id, trust.projectId, environments);
      }
      const conditions = dto.conditions?.map((c) => ({ claim: c.claim, pattern: c.pattern }));
      const change = { audience: dto.audience, conditions, environments, access: dto.access, ttlSeconds: dto.ttlSeconds };
      await this.trusts.update(em, org.id, id, change);
      const changed = Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined));
      await this.audit.record(em, { action: 'oidc_trust.updated', orgId: org.id, actor, meta, metadata: { trustId: id, name: trust.name, ...changed } });
      return toTrustDto((await this.trusts.get(em, org.id, id))!);
    });
  }

  private async assertEnvironmentsExist(em: EntityManager, orgId: string, projectId: string, environments: string[] | null): Promise<void> {
    const slugs = await this.projects.environmentSlugsOf(em, orgId, projectId);
    const missing = (environments ?? []).filter((env) => !slugs?.includes(env));
    if (missing.length) throw new ValidationFailedError([{ field: 'environments', message: `No such environments in the project: ${missing.join(', ')}` }]);
  }

  /** Deletes the relationship and revokes the tokens it minted that still work. */
  async remove(org: OrgContext, actor: Actor, id: string, meta: RequestMeta): Promise<void> {
    await this.db.transaction(async (em) => {
      // Locked: an exchange minting from it finishes first, and its token is revoked below.
      const trust = await this.trusts.get(em, org.id, id, true);
      if (!trust) throw new OidcTrustNotFoundError(id);
      const revokedTokens = await this.tokens.revokeOidcTokens(em, id);
      await this.trusts.delete(em, org.id, id);
      await this.audit.record(em, { action: 'oidc_trust.deleted', orgId: org.id, actor, meta, metadata: { trustId: id, name: trust.name, revokedTokens } });
    });
  }

  /**
   * Deletes the relationships `userId` created and revokes the tokens they minted, in the caller's
   * transaction: in every org when taking an account back (a reset with `revokeTokens`, the first reset
   * of an unverified account, a change of password with `revokeTokens`); in one org (`orgId`) when the
   * member leaves it or loses the right to manage relationships there (a removal, a demotion), so that a
   * later invitation or promotion does not revive them. Each deletion is audited in its org's log as
   * `oidc_trust.deleted` with the reason and the relationship's settings, so an admin can create it again
   * (a relationship holds nothing secret). Returns how many were deleted.
   */
  async removeCreatedBy(em: EntityManager, which: { userId: string; orgId?: string }, how: TokenRevocation): Promise<number> {
    const userId = which.userId;
    const trusts = await this.trusts.lockCreatedBy(em, userId, which.orgId ?? null);
    for (const trust of trusts) {
      const revokedTokens = await this.tokens.revokeOidcTokens(em, trust.id);
      await this.trusts.delete(em, trust.orgId, trust.id);
      await this.audit.record(em, {
        action: 'oidc_trust.deleted',
        orgId: trust.orgId,
        actor: how.actor,
        meta: how.meta,
        metadata: {
          trustId: trust.id,
          name: trust.name,
          reason: how.reason,
          createdBy: userId,
          issuer: trust.issuer,
          audience: trust.audience,
          conditions: trust.conditions,
          projectId: trust.projectId,
          environments: trust.environments,
          access: trust.access,
          ttlSeconds: trust.ttlSeconds,
          revokedTokens,
        },
      });
    }
    return trusts.length;
  }

  /** An issuer URL as tokens carry it in `iss`: https (http only with OIDC_ALLOW_PRIVATE), no credentials, query or fragment. */
  private checkIssuer(raw: string): string {
    let url: URL;
    try {
      url = preflightUrl(raw, this.config.oidc.allowPrivate);
    } catch (error) {
      if (error instanceof RefusedTargetError) throw new OidcIssuerError(`issuer: ${error.message.replace(/^url /, '')}`);
      throw new OidcIssuerError('issuer must be an absolute https:// URL');
    }
    if (url.search || url.hash || raw.includes('#') || raw.includes('?')) throw new OidcIssuerError('issuer must not have a query or a fragment');
    return raw;
  }
}

/** A pattern of wildcards only would accept every token of the issuer. */
function assertConditionsPinDown(conditions: ClaimConditionDto[]): void {
  const vacuous = conditions.findIndex((c) => isVacuous(c.pattern));
  if (vacuous >= 0) {
    throw new ValidationFailedError([
      { field: `conditions.${vacuous}.pattern`, message: 'pattern must pin something down: wildcards alone match every token' },
    ]);
  }
}
