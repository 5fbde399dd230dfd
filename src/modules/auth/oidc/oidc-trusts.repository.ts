import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { TokenAccess } from '../api-token.entity.js';
import type { ClaimCondition } from './claim-conditions.js';
import type { OidcTrustDto } from './oidc.dto.js';

interface TrustRow {
  id: string;
  org_id: string;
  name: string;
  issuer: string;
  audience: string;
  conditions: ClaimCondition[];
  project_id: string;
  project_slug: string;
  environments: string[] | null;
  access: TokenAccess;
  ttl_seconds: number;
  created_by: string;
  created_at: Date;
}

/** A trust relationship and what the exchange needs to mint a token from it. */
export interface OidcTrust extends OidcTrustDto {
  orgSlug: string;
}

export interface NewTrust {
  orgId: string;
  name: string;
  issuer: string;
  audience: string;
  conditions: ClaimCondition[];
  projectId: string;
  environments: string[] | null;
  access: TokenAccess;
  ttlSeconds: number;
  createdBy: string;
}

const SELECT = `
  SELECT t.id, t.org_id, t.name, t.issuer, t.audience, t.conditions, t.project_id, p.slug AS project_slug, t.environments,
         t.access, t.ttl_seconds, t.created_by, t.created_at, o.slug AS org_slug
    FROM oidc_trusts t JOIN projects p ON p.id = t.project_id JOIN orgs o ON o.id = t.org_id`;

/** The SQL of `oidc_trusts` (README: one owner per table; modules/auth owns it with api_tokens). */
@Injectable()
export class OidcTrustsRepository {
  constructor(private readonly db: DataSource) {}

  /** Inserts; null when the name is taken in the org. */
  async insert(em: EntityManager, trust: NewTrust): Promise<string | null> {
    const rows: Array<{ id: string }> = await em.query(
      `INSERT INTO oidc_trusts (org_id, name, issuer, audience, conditions, project_id, environments, access, ttl_seconds, created_by)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10)
       ON CONFLICT (org_id, name) DO NOTHING RETURNING id`,
      [
        trust.orgId,
        trust.name,
        trust.issuer,
        trust.audience,
        JSON.stringify(trust.conditions),
        trust.projectId,
        trust.environments,
        trust.access,
        trust.ttlSeconds,
        trust.createdBy,
      ],
    );
    return rows[0]?.id ?? null;
  }

  async list(orgId: string): Promise<OidcTrust[]> {
    const rows: Array<TrustRow & { org_slug: string }> = await this.db.query(`${SELECT} WHERE t.org_id = $1 ORDER BY t.name`, [orgId]);
    return rows.map(toTrust);
  }

  /** With `lock`, the row stays locked to the end of the transaction (an exchange minting from it waits, or waited). */
  async get(em: EntityManager | DataSource, orgId: string, id: string, lock = false): Promise<OidcTrust | null> {
    const [row]: Array<TrustRow & { org_slug: string }> = await em.query(`${SELECT} WHERE t.org_id = $1 AND t.id = $2${lock ? ' FOR UPDATE OF t' : ''}`, [
      orgId,
      id,
    ]);
    return row ? toTrust(row) : null;
  }

  /** Every relationship `userId` created (in one org when `orgId` is given), locked for deletion to the end of the transaction. */
  async lockCreatedBy(em: EntityManager, userId: string, orgId: string | null = null): Promise<OidcTrust[]> {
    const rows: Array<TrustRow & { org_slug: string }> = await em.query(
      `${SELECT} WHERE t.created_by = $1 AND ($2::uuid IS NULL OR t.org_id = $2::uuid) ORDER BY t.created_at, t.id FOR UPDATE OF t`,
      [userId, orgId],
    );
    return rows.map(toTrust);
  }

  /**
   * In an exchange's transaction, before minting: whether the relationship still exists, holding a lock
   * that a deletion waits for (so a deletion sees, and revokes, a token minted while it ran).
   */
  async holdForExchange(em: EntityManager, id: string): Promise<boolean> {
    const rows: unknown[] = await em.query('SELECT 1 FROM oidc_trusts WHERE id = $1 FOR KEY SHARE', [id]);
    return rows.length > 0;
  }

  /** By id alone: the exchange knows no org until the relationship names it. */
  async find(id: string): Promise<OidcTrust | null> {
    const [row]: Array<TrustRow & { org_slug: string }> = await this.db.query(`${SELECT} WHERE t.id = $1`, [id]);
    return row ? toTrust(row) : null;
  }

  /** Sets the given fields (each `undefined` one stays as it is). */
  async update(
    em: EntityManager,
    orgId: string,
    id: string,
    change: { audience?: string; conditions?: ClaimCondition[]; environments?: string[] | null; access?: TokenAccess; ttlSeconds?: number },
  ): Promise<void> {
    await em.query(
      `UPDATE oidc_trusts SET
         audience     = coalesce($3, audience),
         conditions   = coalesce($4::jsonb, conditions),
         environments = CASE WHEN $5 THEN $6::text[] ELSE environments END,
         access       = coalesce($7, access),
         ttl_seconds  = coalesce($8, ttl_seconds)
       WHERE org_id = $1 AND id = $2`,
      [
        orgId,
        id,
        change.audience ?? null,
        change.conditions ? JSON.stringify(change.conditions) : null,
        change.environments !== undefined,
        change.environments ?? null,
        change.access ?? null,
        change.ttlSeconds ?? null,
      ],
    );
  }

  async delete(em: EntityManager, orgId: string, id: string): Promise<boolean> {
    const rows: Array<{ id: string }> = await em.query(
      'WITH gone AS (DELETE FROM oidc_trusts WHERE org_id = $1 AND id = $2 RETURNING id) SELECT id FROM gone',
      [orgId, id],
    );
    return rows.length > 0;
  }
}

function toTrust(r: TrustRow & { org_slug: string }): OidcTrust {
  return {
    id: r.id,
    orgId: r.org_id,
    orgSlug: r.org_slug,
    name: r.name,
    issuer: r.issuer,
    audience: r.audience,
    conditions: r.conditions.map((c) => ({ claim: c.claim, pattern: c.pattern })),
    projectId: r.project_id,
    projectSlug: r.project_slug,
    environments: r.environments,
    access: r.access,
    ttlSeconds: r.ttl_seconds,
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}

/** The API's view: without the org slug the exchange uses. */
export function toTrustDto({ orgSlug: _orgSlug, ...dto }: OidcTrust): OidcTrustDto {
  return dto;
}
