import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor, OrgContext, RequestMeta } from '../auth/request-context.js';
import { isUniqueViolation } from '../../database/pg-errors.js';
import { AuditService } from '../audit/audit.service.js';
import { ProjectKeys } from '../keys/project-keys.service.js';
import { PlansService } from '../plans/plans.service.js';
import { usage } from '../plans/usage.js';
import { slugify } from '../../common/text/slugify.js';
import { DEFAULT_ENVIRONMENTS, ENVIRONMENT_ALIASES } from './environments.js';
import { Environment } from './environment.entity.js';
import { Project } from './project.entity.js';
import { CreateEnvironmentDto, CreateProjectDto, EnvironmentDto, ProjectDto } from './projects.dto.js';
import { EnvironmentSlugTakenError, ProjectSlugTakenError } from './projects.errors.js';
import type { ProjectRef } from './vault-access.service.js';

/** The first DEK version of a project. */
const FIRST_KEY_VERSION = 1;

@Injectable()
export class ProjectsService {
  constructor(
    private readonly db: DataSource,
    private readonly keys: ProjectKeys,
    private readonly audit: AuditService,
    private readonly plans: PlansService,
  ) {}

  async list(org: OrgContext, actor: Actor): Promise<ProjectDto[]> {
    const scoped = actor.token?.projectId;
    const projects = await this.db.getRepository(Project).find({
      where: scoped ? { orgId: org.id, id: scoped } : { orgId: org.id },
      order: { slug: 'ASC' },
    });
    return this.withEnvironments(projects, actor);
  }

  async get(ref: ProjectRef, actor: Actor): Promise<ProjectDto> {
    const project = await this.db.getRepository(Project).findOneByOrFail({ id: ref.id });
    return (await this.withEnvironments([project], actor))[0];
  }

  async create(actor: Actor, org: OrgContext, dto: CreateProjectDto, meta: RequestMeta): Promise<ProjectDto> {
    const slug = dto.slug ?? slugify(dto.name);
    try {
      const project = await this.db.transaction(async (em) => {
        await this.plans.assertCanAdd(em, org.id, { limit: 'projectsPerOrg', scopeId: org.id, adding: 1, usage: usage.projects(org.id) });
        const created = em.create(Project, {
          orgId: org.id,
          slug,
          name: dto.name,
          description: dto.description ?? null,
          currentKeyVersion: FIRST_KEY_VERSION,
        });
        await em.insert(Project, created);
        await em.insert(
          Environment,
          DEFAULT_ENVIRONMENTS.map((env) => ({ ...env, projectId: created.id })),
        );
        await this.keys.create(em, created.id, FIRST_KEY_VERSION);
        await this.audit.record(em, {
          action: 'project.created',
          orgId: org.id,
          actor,
          meta,
          metadata: { projectId: created.id, slug },
        });
        return created;
      });
      return (await this.withEnvironments([project]))[0];
    } catch (error) {
      if (isUniqueViolation(error, 'projects_org_id_slug_key')) throw new ProjectSlugTakenError(slug);
      throw error;
    }
  }

  async remove(actor: Actor, project: ProjectRef, meta: RequestMeta): Promise<void> {
    await this.db.transaction(async (em) => {
      // Cascades to environments, secrets with their history, project keys and tokens scoped to it.
      await em.delete(Project, { id: project.id });
      await this.audit.record(em, { action: 'project.deleted', orgId: project.orgId, actor, meta, metadata: { projectId: project.id, slug: project.slug } });
    });
  }

  async createEnvironment(actor: Actor, project: ProjectRef, dto: CreateEnvironmentDto, meta: RequestMeta): Promise<EnvironmentDto> {
    if (ENVIRONMENT_ALIASES[dto.slug]) throw new EnvironmentSlugTakenError(dto.slug);
    try {
      return await this.db.transaction(async (em) => {
        await this.plans.assertCanAdd(em, project.orgId, {
          limit: 'environmentsPerProject',
          scopeId: project.id,
          adding: 1,
          usage: usage.environments(project.id),
        });
        const env = em.create(Environment, {
          projectId: project.id,
          slug: dto.slug,
          name: dto.name ?? dto.slug,
          tier: dto.tier ?? 'production',
        });
        await em.insert(Environment, env);
        await this.audit.record(em, {
          action: 'environment.created',
          orgId: project.orgId,
          actor,
          meta,
          metadata: { projectId: project.id, environmentId: env.id, slug: env.slug, tier: env.tier },
        });
        return toEnvironmentDto(env, 0);
      });
    } catch (error) {
      if (isUniqueViolation(error, 'environments_project_id_slug_key')) throw new EnvironmentSlugTakenError(dto.slug);
      throw error;
    }
  }

  /** With `actor`, only the environments a token narrowed to some environments may see. */
  private async withEnvironments(projects: Project[], actor?: Actor): Promise<ProjectDto[]> {
    const visible = actor?.token?.environments ?? null;
    if (!projects.length) return [];
    const rows: Array<{ id: string; project_id: string; slug: string; name: string; tier: EnvironmentDto['tier']; created_at: Date; secret_count: number }> =
      await this.db.query(
        `SELECT e.id, e.project_id, e.slug, e.name, e.tier, e.created_at,
                (SELECT count(*)::int FROM secrets s WHERE s.environment_id = e.id AND s.deleted_at IS NULL) AS secret_count
           FROM environments e WHERE e.project_id = ANY($1)
          ORDER BY array_position(ARRAY['development', 'staging', 'production'], e.slug), e.slug`,
        [projects.map((p) => p.id)],
      );
    return projects.map((p) => ({
      id: p.id,
      slug: p.slug,
      name: p.name,
      description: p.description,
      keyVersion: p.currentKeyVersion,
      createdAt: p.createdAt,
      environments: rows
        .filter((r) => r.project_id === p.id && (!visible || visible.includes(r.slug)))
        .map((r) => toEnvironmentDto({ id: r.id, slug: r.slug, name: r.name, tier: r.tier, createdAt: r.created_at }, r.secret_count)),
    }));
  }
}

function toEnvironmentDto(env: Pick<Environment, 'id' | 'slug' | 'name' | 'tier' | 'createdAt'>, secretCount: number): EnvironmentDto {
  return { id: env.id, slug: env.slug, name: env.name, tier: env.tier, secretCount, createdAt: env.createdAt };
}
