import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor, OrgContext, RequestMeta } from '../auth/request-context.js';
import { isUniqueViolation } from '../../database/pg-errors.js';
import { AuditService } from '../audit/audit.service.js';
import { ProjectKeys } from '../keys/project-keys.service.js';
import { PlansService } from '../plans/plans.service.js';
import { slugify } from '../../common/text/slugify.js';
import { DEFAULT_ENVIRONMENTS, ENVIRONMENT_ALIASES, RESERVED_ENVIRONMENT_SLUGS } from './environments.js';
import { SecretsRepository } from '../secrets/secrets.repository.js';
import { CreateEnvironmentDto, CreateProjectDto, EnvironmentDto, ProjectDto } from './projects.dto.js';
import { EnvironmentSlugTakenError, ProjectNotFoundError, ProjectSlugTakenError } from './projects.errors.js';
import { ProjectsRepository, type EnvironmentRow, type ProjectRow } from './projects.repository.js';
import type { ProjectRef } from './vault-access.service.js';

/** The first DEK version of a project. */
const FIRST_KEY_VERSION = 1;

@Injectable()
export class ProjectsService {
  constructor(
    private readonly db: DataSource,
    private readonly repo: ProjectsRepository,
    private readonly secrets: SecretsRepository,
    private readonly keys: ProjectKeys,
    private readonly audit: AuditService,
    private readonly plans: PlansService,
  ) {}

  async list(org: OrgContext, actor: Actor): Promise<ProjectDto[]> {
    return this.withEnvironments(await this.repo.listInOrg(org.id, actor.token?.projectId ?? undefined), actor);
  }

  async get(ref: ProjectRef, actor: Actor): Promise<ProjectDto> {
    const project = await this.repo.get(ref.id);
    if (!project) throw new ProjectNotFoundError(ref.slug);
    return (await this.withEnvironments([project], actor))[0];
  }

  async create(actor: Actor, org: OrgContext, dto: CreateProjectDto, meta: RequestMeta): Promise<ProjectDto> {
    const slug = dto.slug ?? slugify(dto.name);
    try {
      const project = await this.db.transaction(async (em) => {
        await this.plans.assertCanAdd(em, org.id, {
          limit: 'projectsPerOrg',
          scopeId: org.id,
          adding: 1,
          usage: (locked) => this.repo.countInOrg(locked, org.id),
        });
        const created = await this.repo.insert(em, {
          orgId: org.id,
          slug,
          name: dto.name,
          description: dto.description ?? null,
          currentKeyVersion: FIRST_KEY_VERSION,
        });
        await this.repo.insertEnvironments(em, created.id, DEFAULT_ENVIRONMENTS);
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
      await this.repo.delete(em, project.id);
      await this.audit.record(em, { action: 'project.deleted', orgId: project.orgId, actor, meta, metadata: { projectId: project.id, slug: project.slug } });
    });
  }

  async createEnvironment(actor: Actor, project: ProjectRef, dto: CreateEnvironmentDto, meta: RequestMeta): Promise<EnvironmentDto> {
    if (ENVIRONMENT_ALIASES[dto.slug] || RESERVED_ENVIRONMENT_SLUGS.has(dto.slug)) throw new EnvironmentSlugTakenError(dto.slug);
    try {
      return await this.db.transaction(async (em) => {
        await this.plans.assertCanAdd(em, project.orgId, {
          limit: 'environmentsPerProject',
          scopeId: project.id,
          adding: 1,
          usage: (locked) => this.repo.countEnvironments(locked, project.id),
        });
        const [env] = await this.repo.insertEnvironments(em, project.id, [{ slug: dto.slug, name: dto.name ?? dto.slug, tier: dto.tier ?? 'production' }]);
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
  private async withEnvironments(projects: ProjectRow[], actor?: Actor): Promise<ProjectDto[]> {
    const visible = actor?.token?.environments ?? null;
    if (!projects.length) return [];
    const environments = await this.repo.environmentsOf(projects.map((p) => p.id));
    const counts = await this.secrets.countSetByEnvironment(environments.map((e) => e.id));
    return projects.map((p) => ({
      id: p.id,
      slug: p.slug,
      name: p.name,
      description: p.description,
      keyVersion: p.currentKeyVersion,
      createdAt: p.createdAt,
      environments: environments
        .filter((e) => e.projectId === p.id && (!visible || visible.includes(e.slug)))
        .map((e) => toEnvironmentDto(e, counts.get(e.id) ?? 0)),
    }));
  }
}

function toEnvironmentDto(env: Pick<EnvironmentRow, 'id' | 'slug' | 'name' | 'tier' | 'createdAt'>, secretCount: number): EnvironmentDto {
  return { id: env.id, slug: env.slug, name: env.name, tier: env.tier, secretCount, createdAt: env.createdAt };
}
