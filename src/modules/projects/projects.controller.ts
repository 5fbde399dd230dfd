import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Actor, OrgContext, RequestMeta } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { CurrentActor, CurrentOrg, ReqMeta } from '../auth/request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { KeyRotationService } from './key-rotation.service.js';
import { CreateEnvironmentDto, CreateProjectDto, EnvironmentDto, ProjectDto, ProjectListDto, RotateKeyResultDto } from './projects.dto.js';
import { ProjectsService } from './projects.service.js';

@ApiTags('Projects')
@Controller('projects')
export class ProjectsController {
  constructor(
    private readonly projects: ProjectsService,
    private readonly rotation: KeyRotationService,
  ) {}

  @Get(':orgId')
  @Route({ permission: Permission.ProjectsRead, summary: 'List the projects of an org', response: ProjectListDto })
  async listProjects(@CurrentOrg() org: OrgContext, @CurrentActor() actor: Actor): Promise<ProjectListDto> {
    return { projects: await this.projects.list(org, actor) };
  }

  @Post(':orgId')
  @Route({
    permission: Permission.ProjectsCreate,
    summary: 'Create a project with development, staging and production environments (owner/admin)',
    status: 201,
    response: ProjectDto,
  })
  createProject(@CurrentActor() actor: Actor, @CurrentOrg() org: OrgContext, @Body() dto: CreateProjectDto, @ReqMeta() meta: RequestMeta): Promise<ProjectDto> {
    return this.projects.create(actor, org, dto, meta);
  }

  @Get(':orgId/:slug')
  @Route({ permission: Permission.ProjectsRead, summary: 'Project details with its environments', response: ProjectDto })
  getProject(@CurrentOrg() org: OrgContext, @CurrentActor() actor: Actor, @Param('slug') slug: string): Promise<ProjectDto> {
    return this.projects.get(org, slug, actor);
  }

  @Delete(':orgId/:slug')
  @Route({ permission: Permission.ProjectsDelete, summary: 'Delete a project and all its secrets (owner only)', status: 204 })
  deleteProject(@CurrentActor() actor: Actor, @CurrentOrg() org: OrgContext, @Param('slug') slug: string, @ReqMeta() meta: RequestMeta): Promise<void> {
    return this.projects.remove(actor, org, slug, meta);
  }

  @Post(':orgId/:slug/environments')
  @Route({ permission: Permission.EnvironmentsCreate, summary: 'Create a custom environment (owner/admin)', status: 201, response: EnvironmentDto })
  createEnvironment(
    @CurrentActor() actor: Actor,
    @CurrentOrg() org: OrgContext,
    @Param('slug') slug: string,
    @Body() dto: CreateEnvironmentDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<EnvironmentDto> {
    return this.projects.createEnvironment(actor, org, slug, dto, meta);
  }

  @Post(':orgId/:slug/rotate-key')
  @Route({
    permission: Permission.ProjectKeyRotate,
    summary: 'Rotate the project key: re-encrypt every value under a new key, destroy the old one (owner/admin)',
    response: RotateKeyResultDto,
  })
  rotateKey(@CurrentActor() actor: Actor, @CurrentOrg() org: OrgContext, @Param('slug') slug: string, @ReqMeta() meta: RequestMeta): Promise<RotateKeyResultDto> {
    return this.rotation.rotate(actor, org, slug, meta);
  }
}
