import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PreparedSql } from '../../database/prepared-sql.js';
import type { Actor, OrgContext } from '../auth/request-context.js';
import { roleCanReadTier, type Tier } from '../../common/auth/permissions.js';
import { canonicalEnvironment } from './environments.js';
import { EnvironmentNotFoundError, ProjectNotFoundError, TierForbiddenError, TokenProjectScopeError } from './projects.errors.js';

export interface ProjectRef {
  readonly id: string;
  readonly slug: string;
  readonly orgId: string;
  readonly currentKeyVersion: number;
}

export interface EnvironmentRef {
  readonly id: string;
  readonly slug: string;
  readonly tier: Tier;
}

/** A project and one of its environments, resolved for a caller who may use them. */
export interface VaultTarget {
  readonly org: OrgContext;
  readonly project: ProjectRef;
  readonly environment: EnvironmentRef;
}

export type AccessMode = 'read' | 'write';

/**
 * The second level of authorisation (STYLE.md 5): the guard has checked the role's permission in the
 * org; this checks the project and environment — existence (404), the token's project/environment
 * scope (403), and for reads the environment's tier (403).
 */
/**
 * How long a read may reuse a resolved project/environment. Ids and tiers never change; a project
 * deleted meanwhile reads as empty for at most this long (DESIGN.md §3: short-TTL caches only).
 */
const READ_TARGET_TTL_MS = 5_000;

interface TargetRow {
  id: string;
  slug: string;
  current_key_version: number;
  env_id: string | null;
  env_slug: string | null;
  tier: Tier | null;
}

@Injectable()
export class VaultAccess {
  private readonly readTargets = new Map<string, { row: TargetRow; expiresAt: number }>();

  constructor(
    private readonly db: DataSource,
    private readonly sql: PreparedSql,
  ) {}

  async project(org: OrgContext, projectSlug: string, actor: Actor): Promise<ProjectRef> {
    const [row] = await this.db.query('SELECT id, slug, current_key_version FROM projects WHERE org_id = $1 AND slug = $2', [org.id, projectSlug]);
    if (!row) throw new ProjectNotFoundError(projectSlug);
    const project = { id: row.id, slug: row.slug, orgId: org.id, currentKeyVersion: row.current_key_version };
    assertProjectScope(actor, project.id);
    return project;
  }

  /**
   * Project and environment in one query. Reads (every pull) reuse a resolution for a few seconds;
   * the access checks below run on every request all the same.
   */
  async environment(org: OrgContext, projectSlug: string, envRef: string, actor: Actor, mode: AccessMode): Promise<VaultTarget> {
    const slug = canonicalEnvironment(envRef);
    const row = mode === 'read' ? await this.cachedTarget(org.id, projectSlug, slug) : await this.loadTarget(org.id, projectSlug, slug);
    if (!row) throw new ProjectNotFoundError(projectSlug);
    assertProjectScope(actor, row.id);
    if (!row.env_id) throw new EnvironmentNotFoundError(envRef);
    const environment: EnvironmentRef = { id: row.env_id, slug: row.env_slug!, tier: row.tier! };
    assertEnvironmentAccess(actor, org, environment, mode);
    return {
      org,
      project: { id: row.id, slug: row.slug, orgId: org.id, currentKeyVersion: row.current_key_version },
      environment,
    };
  }

  private async cachedTarget(orgId: string, projectSlug: string, envSlug: string): Promise<TargetRow | undefined> {
    const key = `${orgId}/${projectSlug}/${envSlug}`;
    const now = Date.now();
    const hit = this.readTargets.get(key);
    if (hit && hit.expiresAt > now) return hit.row;
    const row = await this.loadTarget(orgId, projectSlug, envSlug);
    if (row?.env_id) {
      if (this.readTargets.size > 10_000) this.readTargets.clear();
      this.readTargets.set(key, { row, expiresAt: now + READ_TARGET_TTL_MS });
    }
    return row;
  }

  private async loadTarget(orgId: string, projectSlug: string, envSlug: string): Promise<TargetRow | undefined> {
    const [row] = await this.sql.query<TargetRow>(
      'vault-target',
      `SELECT p.id, p.slug, p.current_key_version, e.id AS env_id, e.slug AS env_slug, e.tier
         FROM projects p LEFT JOIN environments e ON e.project_id = p.id AND e.slug = $3
        WHERE p.org_id = $1 AND p.slug = $2`,
      [orgId, projectSlug, envSlug],
    );
    return row;
  }
}

export function assertProjectScope(actor: Actor, projectId: string): void {
  if (actor.token?.projectId && actor.token.projectId !== projectId) throw new TokenProjectScopeError('project');
}

/** Whether `actor` may read `environment` (its tier, and a token's environments): assertEnvironmentAccess's read check, as a boolean. */
export function canReadEnvironment(actor: Actor, org: OrgContext, environment: EnvironmentRef): boolean {
  const scoped = actor.token?.environments;
  return (!scoped || scoped.includes(environment.slug)) && roleCanReadTier(org.role, environment.tier);
}

export function assertEnvironmentAccess(actor: Actor, org: OrgContext, environment: EnvironmentRef, mode: AccessMode): void {
  const scoped = actor.token?.environments;
  if (scoped && !scoped.includes(environment.slug)) throw new TokenProjectScopeError('environment');
  if (mode === 'read' && !roleCanReadTier(org.role, environment.tier)) throw new TierForbiddenError(org.role, environment.tier);
}
