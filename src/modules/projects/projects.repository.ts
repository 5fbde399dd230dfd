import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { Tier } from '../../common/auth/permissions.js';

export interface ProjectRow {
  id: string;
  orgId: string;
  slug: string;
  name: string;
  description: string | null;
  /** The DEK version new values are encrypted under. */
  currentKeyVersion: number;
  createdAt: Date;
}

export interface EnvironmentRow {
  id: string;
  projectId: string;
  slug: string;
  name: string;
  /** Decides who may read its secrets (DESIGN.md §4). */
  tier: Tier;
  createdAt: Date;
}

export type NewEnvironment = Pick<EnvironmentRow, 'slug' | 'name' | 'tier'>;

const PROJECT_COLUMNS = 'id, org_id, slug, name, description, current_key_version, created_at';
const ENVIRONMENT_COLUMNS = 'id, project_id, slug, name, tier, created_at';

type Raw = Record<string, unknown>;

function toProject(r: Raw): ProjectRow {
  return {
    id: r.id as string,
    orgId: r.org_id as string,
    slug: r.slug as string,
    name: r.name as string,
    description: r.description as string | null,
    currentKeyVersion: r.current_key_version as number,
    createdAt: r.created_at as Date,
  };
}

function toEnvironment(r: Raw): EnvironmentRow {
  return {
    id: r.id as string,
    projectId: r.project_id as string,
    slug: r.slug as string,
    name: r.name as string,
    tier: r.tier as Tier,
    createdAt: r.created_at as Date,
  };
}

/**
 * SQL over `projects` and `environments` (VaultAccess keeps its own prepared statements of the pull
 * path beside it, in this module). Writers pass their transaction's EntityManager.
 */
@Injectable()
export class ProjectsRepository {
  constructor(private readonly db: DataSource) {}

  /** The org's projects (only `onlyId`, for a token narrowed to one), by slug. */
  async listInOrg(orgId: string, onlyId?: string): Promise<ProjectRow[]> {
    const rows: Raw[] = await this.db.query(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE org_id = $1 AND ($2::uuid IS NULL OR id = $2) ORDER BY slug`, [
      orgId,
      onlyId ?? null,
    ]);
    return rows.map(toProject);
  }

  async get(id: string): Promise<ProjectRow | null> {
    const [row]: Raw[] = await this.db.query(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE id = $1`, [id]);
    return row ? toProject(row) : null;
  }

  /** The slug of each project that exists. */
  async slugsOf(em: EntityManager, ids: readonly string[]): Promise<Map<string, string>> {
    if (!ids.length) return new Map();
    const rows: Array<{ id: string; slug: string }> = await em.query('SELECT id, slug FROM projects WHERE id = ANY($1::uuid[])', [[...new Set(ids)]]);
    return new Map(rows.map((r) => [r.id, r.slug]));
  }

  /** A project of the org, by id or slug. */
  async findInOrg(orgId: string, ref: string, byId: boolean): Promise<{ id: string; slug: string } | null> {
    const [row]: Array<{ id: string; slug: string }> = await this.db.query(
      `SELECT id, slug FROM projects WHERE org_id = $1 AND ${byId ? 'id = $2::uuid' : 'slug = $2'}`,
      [orgId, ref],
    );
    return row ?? null;
  }

  async insert(em: EntityManager, project: Pick<ProjectRow, 'orgId' | 'slug' | 'name' | 'description' | 'currentKeyVersion'>): Promise<ProjectRow> {
    const [row]: Raw[] = await em.query(
      `INSERT INTO projects (org_id, slug, name, description, current_key_version) VALUES ($1, $2, $3, $4, $5) RETURNING ${PROJECT_COLUMNS}`,
      [project.orgId, project.slug, project.name, project.description, project.currentKeyVersion],
    );
    return toProject(row);
  }

  /** Org deletion: the ids of the org's projects and of their environments. */
  async idsInOrg(orgId: string): Promise<Array<{ projectId: string; environmentIds: string[] }>> {
    const rows: Array<{ id: string; environment_ids: string[] }> = await this.db.query(
      `SELECT p.id, COALESCE(array_agg(e.id) FILTER (WHERE e.id IS NOT NULL), '{}') AS environment_ids
         FROM projects p LEFT JOIN environments e ON e.project_id = p.id WHERE p.org_id = $1 GROUP BY p.id`,
      [orgId],
    );
    return rows.map((r) => ({ projectId: r.id, environmentIds: r.environment_ids }));
  }

  /** Deletes the project; the schema cascades to its environments, secrets, keys and scoped tokens. */
  async delete(em: EntityManager, id: string): Promise<void> {
    await em.query('DELETE FROM projects WHERE id = $1', [id]);
  }

  async insertEnvironments(em: EntityManager, projectId: string, environments: readonly NewEnvironment[]): Promise<EnvironmentRow[]> {
    const rows: Raw[] = await em.query(
      `INSERT INTO environments (project_id, slug, name, tier)
       SELECT $1, s, n, t FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS e(s, n, t, i) ORDER BY i
       RETURNING ${ENVIRONMENT_COLUMNS}`,
      [projectId, environments.map((e) => e.slug), environments.map((e) => e.name), environments.map((e) => e.tier)],
    );
    return rows.map(toEnvironment);
  }

  /** The environments of the projects: the default ones first, in their order, then by slug. */
  /** In `em`'s transaction when given (a caller holding locks must not wait for a second pooled connection). */
  async environmentsOf(projectIds: string[], em?: EntityManager): Promise<EnvironmentRow[]> {
    const rows: Raw[] = await (em ?? this.db).query(
      `SELECT ${ENVIRONMENT_COLUMNS} FROM environments WHERE project_id = ANY($1)
        ORDER BY array_position(ARRAY['development', 'staging', 'production'], slug), slug`,
      [projectIds],
    );
    return rows.map(toEnvironment);
  }

  /** Which of `slugs` are environments: of the project, or (without one) of any project of the org. */
  async existingEnvironmentSlugs(orgId: string, projectId: string | null, slugs: string[]): Promise<Set<string>> {
    const rows: Array<{ slug: string }> = await this.db.query(
      `SELECT DISTINCT e.slug FROM environments e JOIN projects p ON p.id = e.project_id
        WHERE p.org_id = $1 AND ($2::uuid IS NULL OR p.id = $2) AND e.slug = ANY($3::text[])`,
      [orgId, projectId, slugs],
    );
    return new Set(rows.map((r) => r.slug));
  }

  /** The environment slugs of a project of the org; null when the org has no such project. */
  async environmentSlugsOf(em: EntityManager, orgId: string, projectId: string): Promise<string[] | null> {
    const rows: Array<{ slug: string | null }> = await em.query(
      `SELECT e.slug FROM projects p LEFT JOIN environments e ON e.project_id = p.id WHERE p.id = $1 AND p.org_id = $2`,
      [projectId, orgId],
    );
    return rows.length ? rows.flatMap((r) => (r.slug === null ? [] : [r.slug])) : null;
  }

  /** The projects of each org: project id → org id. */
  async projectOrgs(em: EntityManager, orgIds: string[]): Promise<Map<string, string>> {
    const rows: Array<{ id: string; org_id: string }> = await em.query('SELECT id, org_id FROM projects WHERE org_id = ANY($1::uuid[])', [orgIds]);
    return new Map(rows.map((r) => [r.id, r.org_id]));
  }

  async count(): Promise<number> {
    const [row]: Array<{ n: number }> = await this.db.query('SELECT count(*)::int AS n FROM projects');
    return row.n;
  }

  /** What projectsPerOrg counts. */
  async countInOrg(em: EntityManager, orgId: string): Promise<number> {
    const [row]: Array<{ n: number }> = await em.query('SELECT count(*)::int AS n FROM projects WHERE org_id = $1', [orgId]);
    return row.n;
  }

  /** What environmentsPerProject counts. */
  async countEnvironments(em: EntityManager, projectId: string): Promise<number> {
    const [row]: Array<{ n: number }> = await em.query('SELECT count(*)::int AS n FROM environments WHERE project_id = $1', [projectId]);
    return row.n;
  }

  /**
   * The project's current key version, with the project row locked until the transaction ends:
   * `share` by every writer of secret values (it holds the version steady), `update` by a key rotation
   * (switching versions, destroying old ones), which so waits for in-flight writers.
   */
  async lockKeyVersion(em: EntityManager, projectId: string, mode: 'share' | 'update'): Promise<number> {
    const [row]: Array<{ current_key_version: number }> = await em.query(
      `SELECT current_key_version FROM projects WHERE id = $1 ${mode === 'share' ? 'FOR SHARE' : 'FOR UPDATE'}`,
      [projectId],
    );
    return row.current_key_version;
  }

  async setKeyVersion(em: EntityManager, projectId: string, keyVersion: number): Promise<void> {
    await em.query('UPDATE projects SET current_key_version = $2 WHERE id = $1', [projectId, keyVersion]);
  }
}
