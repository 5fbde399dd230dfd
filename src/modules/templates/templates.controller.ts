import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { OrgRequestContext } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { Ctx } from '../auth/request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { AddTemplateDto, TemplateDto, TemplateListDto, TemplateValidationDto } from './templates.dto.js';
import { VaultAccess } from '../projects/vault-access.service.js';
import { TemplatesService } from './templates.service.js';

/** Template routes take the org's slug (spec 003). */
const BY_SLUG = { param: 'orgSlug', by: 'slug' } as const;

@ApiTags('Templates')
@Controller('templates/:orgSlug/:project')
export class TemplatesController {
  constructor(
    private readonly templates: TemplatesService,
    private readonly access: VaultAccess,
  ) {}

  @Get()
  @Route({ permission: Permission.TemplatesRead, org: BY_SLUG, summary: 'List the template keys of a project', response: TemplateListDto })
  async listTemplates(@Ctx() { actor, org }: OrgRequestContext, @Param('project') project: string): Promise<TemplateListDto> {
    return { templates: await this.templates.list(await this.access.project(org, project, actor)) };
  }

  @Post()
  @Route({ permission: Permission.TemplatesManage, org: BY_SLUG, summary: 'Add a template key (owner/admin)', status: 201, response: TemplateDto })
  async addTemplate(@Ctx() { actor, org, meta }: OrgRequestContext, @Param('project') project: string, @Body() dto: AddTemplateDto): Promise<TemplateDto> {
    return this.templates.add(actor, await this.access.project(org, project, actor), dto, meta);
  }

  @Get('validate/:env')
  @Route({
    permission: Permission.TemplatesRead,
    org: BY_SLUG,
    summary: 'Check an environment against the template: missing required keys, extra keys',
    response: TemplateValidationDto,
  })
  async validateTemplate(
    @Ctx() { actor, org }: OrgRequestContext,
    @Param('project') project: string,
    @Param('env') env: string,
  ): Promise<TemplateValidationDto> {
    return this.templates.validate(await this.access.environment(org, project, env, actor, 'read'));
  }

  @Delete(':key')
  @Route({ permission: Permission.TemplatesManage, org: BY_SLUG, summary: 'Remove a template key (owner/admin)', status: 204 })
  async removeTemplate(@Ctx() { actor, org, meta }: OrgRequestContext, @Param('project') project: string, @Param('key') key: string): Promise<void> {
    return this.templates.remove(actor, await this.access.project(org, project, actor), key, meta);
  }
}
