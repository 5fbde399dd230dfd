import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Actor, OrgContext, RequestMeta } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { CurrentActor, CurrentOrg, ReqMeta } from '../auth/request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { AddTemplateDto, TemplateDto, TemplateListDto, TemplateValidationDto } from './templates.dto.js';
import { TemplatesService } from './templates.service.js';

/** Template routes take the org's slug (spec 003). */
const BY_SLUG = { param: 'orgSlug', by: 'slug' } as const;

@ApiTags('Templates')
@Controller('templates/:orgSlug/:project')
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  @Get()
  @Route({ permission: Permission.TemplatesRead, org: BY_SLUG, summary: 'List the template keys of a project', response: TemplateListDto })
  async listTemplates(@CurrentActor() actor: Actor, @CurrentOrg() org: OrgContext, @Param('project') project: string): Promise<TemplateListDto> {
    return { templates: await this.templates.list(org, project, actor) };
  }

  @Post()
  @Route({ permission: Permission.TemplatesManage, org: BY_SLUG, summary: 'Add a template key (owner/admin)', status: 201, response: TemplateDto })
  addTemplate(
    @CurrentActor() actor: Actor,
    @CurrentOrg() org: OrgContext,
    @Param('project') project: string,
    @Body() dto: AddTemplateDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<TemplateDto> {
    return this.templates.add(actor, org, project, dto, meta);
  }

  @Get('validate/:env')
  @Route({
    permission: Permission.TemplatesRead,
    org: BY_SLUG,
    summary: 'Check an environment against the template: missing required keys, extra keys',
    response: TemplateValidationDto,
  })
  validateTemplate(
    @CurrentActor() actor: Actor,
    @CurrentOrg() org: OrgContext,
    @Param('project') project: string,
    @Param('env') env: string,
  ): Promise<TemplateValidationDto> {
    return this.templates.validate(org, project, env, actor);
  }

  @Delete(':key')
  @Route({ permission: Permission.TemplatesManage, org: BY_SLUG, summary: 'Remove a template key (owner/admin)', status: 204 })
  removeTemplate(
    @CurrentActor() actor: Actor,
    @CurrentOrg() org: OrgContext,
    @Param('project') project: string,
    @Param('key') key: string,
    @ReqMeta() meta: RequestMeta,
  ): Promise<void> {
    return this.templates.remove(actor, org, project, key, meta);
  }
}
