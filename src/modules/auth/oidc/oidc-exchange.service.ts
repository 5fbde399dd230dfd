import { Inject, Injectable } from '@nestjs/common';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JSONWebKeySet } from 'jose';
import { DataSource } from 'typeorm';
import { Permission, roleHasPermission } from '../../../common/auth/permissions.js';
import { RateLimitedError } from '../../../common/errors/domain-error.js';
import { RateLimiter } from '../../../common/rate-limit/rate-limiter.service.js';
import { CONFIG, type AppConfig } from '../../../config/config.js';
import { AuditService } from '../../audit/audit.service.js';
import { OrgsRepository } from '../../orgs/orgs.repository.js';
import type { RequestMeta } from '../request-context.js';
import { TokensService } from '../tokens.service.js';
import { firstUnmet } from './claim-conditions.js';
import type { OidcExchangeDto, OidcExchangedDto } from './oidc.dto.js';
import { OidcExchangeError, type OidcCheck } from './oidc.errors.js';
import { IssuerKeysError, OidcKeys } from './oidc-keys.js';
import { OidcTrustsRepository, type OidcTrust } from './oidc-trusts.repository.js';

/** Asymmetric algorithms only: `none` and HS* (which a public key could "sign") are refused. */
export const OIDC_ALGORITHMS = ['RS256', 'ES256'] as const;
/** A refusal is audited once per relationship, client address and check in this window… */
export const REFUSAL_AUDIT_WINDOW_SECONDS = 60;
/** …and at most this many a window per relationship, whatever the addresses. */
export const REFUSALS_AUDITED_PER_TRUST = 20;
/** Clock skew allowed on exp, nbf and iat, in seconds. */
export const OIDC_CLOCK_SKEW_SECONDS = 60;

/** The claims that say which pipeline asked (GitHub's names; GitLab's where they differ), for the audit row. */
const AUDITED_CLAIMS = [
  'sub',
  'repository',
  'ref',
  'workflow',
  'run_id',
  'actor',
  'environment',
  'project_path',
  'pipeline_id',
  'user_login',
  'job_workflow_ref',
];

/**
 * POST /v1/auth/oidc (issue 20): a CI job's OIDC token, checked against one trust relationship —
 * issuer, signature (the issuer's published keys, RS256/ES256 only), audience, exp/nbf/iat with a small
 * clock skew, then the relationship's claim conditions — becomes a scoped `secr_tok_` of the
 * relationship's creator that expires at the relationship's TTL or the JWT's `exp`, whichever is first.
 * Every refusal is a 401 that names the check (never the token). Successful exchanges are rate-limited
 * per org and refusals per client address (counters in PostgreSQL, shared by every instance), so junk
 * sent with a public relationship id cannot block the org's pipelines; exchanges are audited, and
 * refusals of a known relationship too, a bounded number of them.
 */
@Injectable()
export class OidcExchangeService {
  constructor(
    private readonly db: DataSource,
    private readonly trusts: OidcTrustsRepository,
    private readonly keys: OidcKeys,
    private readonly tokens: TokensService,
    private readonly orgs: OrgsRepository,
    private readonly audit: AuditService,
    private readonly limiter: RateLimiter,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async exchange(dto: OidcExchangeDto, meta: RequestMeta): Promise<OidcExchangedDto> {
    // Refusals are bounded per client address, before any work: junk from one address stops there,
    // and junk cannot use up the org's limit, which counts successful exchanges only.
    const byIp = this.config.oidc.refusalLimit;
    const ipKey = refusalsKey(meta.ip);
    const lockedFor = await this.limiter.lockedFor(ipKey, byIp.limit);
    if (lockedFor) throw new RateLimitedError('Too many refused OIDC exchanges from this address; try again later', lockedFor);
    const trust = await this.trusts.find(dto.trustId);
    if (!trust) {
      await this.countRefusal(null, 'trust', meta);
      throw new OidcExchangeError('trust', 'no trust relationship has this id');
    }
    let claims: JWTPayload;
    try {
      claims = await this.verify(trust, dto.token);
    } catch (error) {
      if (error instanceof OidcExchangeError) await this.countRefusal(trust, error.check, meta);
      throw error;
    }
    const rule = this.config.oidc.exchangeLimit;
    const hit = await this.limiter.hit(`oidc:exchange:org:${trust.orgId}`, rule);
    if (hit.count > rule.limit) throw new RateLimitedError('Too many OIDC exchanges for this organization; try again later', hit.retryAfterSeconds);
    return this.mint(trust, claims, meta);
  }

  private async verify(trust: OidcTrust, jwt: string): Promise<JWTPayload> {
    let alg: string | undefined;
    let unverified: JWTPayload;
    try {
      alg = decodeProtectedHeader(jwt).alg;
      unverified = decodeJwt(jwt);
    } catch {
      throw new OidcExchangeError('malformed', 'not a well-formed JWT');
    }
    if (!alg || !(OIDC_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new OidcExchangeError('algorithm', `only ${OIDC_ALGORITHMS.join(' and ')} signatures are accepted`);
    }
    if (unverified.iss !== trust.issuer) throw new OidcExchangeError('issuer', 'the token was not issued by the issuer of this trust relationship');
    const claims = await this.verifySignatureAndClaims(trust, jwt);
    if (typeof claims.iat !== 'number' || claims.iat > Date.now() / 1000 + OIDC_CLOCK_SKEW_SECONDS) {
      throw new OidcExchangeError('issued_at', 'the token has no issue time, or one in the future');
    }
    const unmet = firstUnmet(claims as Record<string, unknown>, trust.conditions);
    if (unmet) throw new OidcExchangeError('condition', `claim '${unmet.claim}' does not match the trust relationship's condition`);
    return claims;
  }

  /** jose's checks, with the issuer's keys refetched once when the token names a key id they lack (rotation). */
  private async verifySignatureAndClaims(trust: OidcTrust, jwt: string): Promise<JWTPayload> {
    let keys = (await this.keysOf(trust.issuer))!;
    for (let attempt = 0; ; attempt++) {
      try {
        const { payload } = await jwtVerify(jwt, createLocalJWKSet(keys), {
          issuer: trust.issuer,
          audience: trust.audience,
          algorithms: [...OIDC_ALGORITHMS],
          clockTolerance: OIDC_CLOCK_SKEW_SECONDS,
          requiredClaims: ['exp', 'iat'],
        });
        return payload;
      } catch (error) {
        if (error instanceof errors.JWKSNoMatchingKey && attempt === 0) {
          const fresh = await this.keysOf(trust.issuer, true);
          if (fresh) {
            keys = fresh;
            continue;
          }
        }
        throw refusalFor(error) ?? error;
      }
    }
  }

  /** The issuer's keys (cached), or with `refresh` new ones (null when refetched too recently). */
  private async keysOf(issuer: string, refresh = false): Promise<JSONWebKeySet | null> {
    try {
      return refresh ? await this.keys.refresh(issuer) : await this.keys.keys(issuer);
    } catch (error) {
      if (error instanceof IssuerKeysError) throw new OidcExchangeError('issuer_unreachable', error.message);
      throw error;
    }
  }

  private mint(trust: OidcTrust, claims: JWTPayload, meta: RequestMeta): Promise<OidcExchangedDto> {
    const expiresAt = new Date(Math.min(Date.now() + trust.ttlSeconds * 1000, claims.exp! * 1000));
    const pipeline = Object.fromEntries(
      AUDITED_CLAIMS.filter((c) => typeof claims[c] === 'string' || typeof claims[c] === 'number').map((c) => [c, claims[c]]),
    );
    return this.db.transaction(async (em) => {
      // Deleted since it was read (by an admin, or with the account that created it): nothing to mint.
      if (!(await this.trusts.holdForExchange(em, trust.id))) throw new OidcExchangeError('trust', 'no trust relationship has this id');
      // Removal and demotion delete the creator's relationships; this also refuses any that outlived
      // them (made before they did): a creator who left, rejoined since, or may no longer manage them.
      const creator = await this.orgs.membership(em, trust.orgId, trust.createdBy);
      if (!creator || creator.joinedAt > trust.createdAt || !roleHasPermission(creator.role, Permission.OidcTrustsManage)) {
        throw new OidcExchangeError(
          'creator',
          'the member who created this trust relationship has left the organization, or may no longer manage trust relationships; create it again',
        );
      }
      const minted = await this.tokens.mintOidcToken(
        em,
        {
          userId: trust.createdBy,
          trustId: trust.id,
          name: `oidc:${trust.name}`.slice(0, 100),
          orgId: trust.orgId,
          projectId: trust.projectId,
          environments: trust.environments,
          access: trust.access,
          expiresAt,
        },
        meta,
        { via: 'oidc', trustId: trust.id, projectId: trust.projectId, environments: trust.environments },
      );
      await this.audit.record(em, {
        action: 'oidc.exchanged',
        orgId: trust.orgId,
        actor: {
          userId: trust.createdBy,
          token: {
            id: minted.id,
            orgId: trust.orgId,
            projectId: trust.projectId,
            environments: trust.environments,
            access: trust.access,
            expiresAt: minted.expiresAt,
          },
        },
        meta,
        metadata: { trustId: trust.id, trustName: trust.name, tokenId: minted.id, expiresAt: minted.expiresAt, issuer: trust.issuer, claims: pipeline },
      });
      return {
        token: minted.token,
        tokenId: minted.id,
        expiresAt: minted.expiresAt,
        access: minted.access,
        orgSlug: trust.orgSlug,
        projectSlug: trust.projectSlug,
        environments: trust.environments,
      };
    });
  }

  /**
   * Counts a refusal against the client's address and audits it as `oidc.refused` when the relationship
   * is known, but not every one: once per relationship, address and check a minute, and at most
   * REFUSALS_AUDITED_PER_TRUST a minute per relationship, so junk cannot fill the org's audit log.
   */
  private async countRefusal(trust: OidcTrust | null, check: OidcCheck, meta: RequestMeta): Promise<void> {
    const byIp = this.config.oidc.refusalLimit;
    await this.limiter.recordFailure(refusalsKey(meta.ip), byIp.limit, byIp.windowSeconds);
    if (!trust) return;
    const once = await this.limiter.hit(`oidc:refused:audited:${trust.id}:${check}:${meta.ip}`, { limit: 1, windowSeconds: REFUSAL_AUDIT_WINDOW_SECONDS });
    if (once.count > 1) return;
    const perTrust = { limit: REFUSALS_AUDITED_PER_TRUST, windowSeconds: REFUSAL_AUDIT_WINDOW_SECONDS };
    if ((await this.limiter.hit(`oidc:refused:audited:${trust.id}`, perTrust)).count > perTrust.limit) return;
    await this.db.transaction((em) =>
      this.audit.record(em, { action: 'oidc.refused', orgId: trust.orgId, actor: null, meta, metadata: { trustId: trust.id, trustName: trust.name, check } }),
    );
  }
}

/** The rate-limit key counting a client address's refused exchanges. */
function refusalsKey(ip: string): string {
  return `oidc:refused:ip:${ip}`;
}

/** jose's verdict as the check that failed; null for anything else (a bug: a 500). */
function refusalFor(error: unknown): OidcExchangeError | null {
  if (error instanceof OidcExchangeError) return error;
  if (error instanceof errors.JWTExpired) return new OidcExchangeError('expired', 'the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'nbf':
        return new OidcExchangeError('not_yet_valid', 'the token is not valid yet (nbf)');
      case 'aud':
        return new OidcExchangeError('audience', "the token's audience is not the trust relationship's");
      case 'iss':
        return new OidcExchangeError('issuer', 'the token was not issued by the issuer of this trust relationship');
      case 'iat':
        return new OidcExchangeError('issued_at', 'the token has no valid issue time');
      case 'exp':
        return new OidcExchangeError('expired', 'the token has no valid expiry');
      default:
        return new OidcExchangeError('malformed', `the token's '${error.claim}' claim is not valid`);
    }
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new OidcExchangeError('unknown_key', "the token's key id is not among the issuer's published keys");
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new OidcExchangeError('algorithm', `only ${OIDC_ALGORITHMS.join(' and ')} signatures are accepted`);
  if (error instanceof errors.JWSSignatureVerificationFailed) return new OidcExchangeError('signature', 'the signature does not verify');
  if (error instanceof errors.JOSEError) return new OidcExchangeError('malformed', 'not a well-formed JWT');
  return null;
}
