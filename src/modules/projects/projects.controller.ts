import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { OrgRequestContext } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { Ctx } from '../auth/request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { KeyRotationService } from './key-rotation.service.js';
import { CreateEnvironmentDto, CreateProjectDto, EnvironmentDto, ProjectDto, ProjectListDto, RotateKeyResultDto } from './projects.dto.js';
import { ProjectsService } from './projects.service.js';
import { VaultAccess } from './vault-access.service.js';

@ApiTags('Projects')
@Controller('projects')
export class ProjectsController {
  constructor(
    private readonly projects: ProjectsService,
    private readonly rotation: KeyRotationService,
    private readonly access: VaultAccess,
  ) {}

  @Get(':orgId')
  @Route({ permission: Permission.ProjectsRead, summary: 'List the projects of an org', response: ProjectListDto })
  async listProjects(@Ctx() { actor, org }: OrgRequestContext): Promise<ProjectListDto> {
    return { projects: await this.projects.list(org, actor) };
  }

  @Post(':orgId')
  @Route({
    permission: Permission.ProjectsCreate,
    summary: 'Create a project with development, staging and production environments (owner/admin)',
    status: 201,
    response: ProjectDto,
  })
  createProject(@Ctx() { actor, org, meta }: OrgRequestContext, @Body() dto: CreateProjectDto): Promise<ProjectDto> {
    return this.projects.create(actor, org, dto, meta);
  }

  @Get(':orgId/:slug')
  @Route({ permission: Permission.ProjectsRead, summary: 'Project details with its environments', response: ProjectDto })
  async getProject(@Ctx() { actor, org }: OrgRequestContext, @Param('slug') slug: string): Promise<ProjectDto> {
    return this.projects.get(await this.access.project(org, slug, actor), actor);
  }

  @Delete(':orgId/:slug')
  @Route({ permission: Permission.ProjectsDelete, summary: 'Delete a project and all its secrets (owner only)', status: 204 })
  async deleteProject(@Ctx() { actor, org, meta }: OrgRequestContext, @Param('slug') slug: string): Promise<void> {
    return this.projects.remove(actor, await this.access.project(org, slug, actor), meta);
  }

  @Post(':orgId/:slug/environments')
  @Route({ permission: Permission.EnvironmentsCreate, summary: 'Create a custom environment (owner/admin)', status: 201, response: EnvironmentDto })
  async createEnvironment(
    @Ctx() { actor, org, meta }: OrgRequestContext,
    @Param('slug') slug: string,
    @Body() dto: CreateEnvironmentDto,
  ): Promise<EnvironmentDto> {
    return this.projects.createEnvironment(actor, await this.access.project(org, slug, actor), dto, meta);
  }

  @Post(':orgId/:slug/rotate-key')
  @Route({
    permission: Permission.ProjectKeyRotate,
    summary: 'Rotate the project key: re-encrypt every value under a new key, destroy the old one (owner/admin)',
    response: RotateKeyResultDto,
  })
  async rotateKey(@Ctx() { actor, org, meta }: OrgRequestContext, @Param('slug') slug: string): Promise<RotateKeyResultDto> {
    return this.rotation.rotate(actor, await this.access.project(org, slug, actor), meta);
  }
}
