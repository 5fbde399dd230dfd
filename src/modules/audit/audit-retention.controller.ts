import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { OrgRequestContext } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { Ctx } from '../auth/request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { AuditRetentionDto, SetAuditRetentionDto } from './audit.dto.js';
import { AuditSettings } from './audit-settings.service.js';

@ApiTags('Audit')
@Controller('audit')
export class AuditRetentionController {
  constructor(private readonly settings: AuditSettings) {}

  @Get(':orgId/retention')
  @Route({
    permission: Permission.AuditRead,
    summary: 'The org’s audit retention period in force and where it comes from: the org’s own, its plan’s, the server’s, or none (owner/admin)',
    response: AuditRetentionDto,
  })
  getAuditRetention(@Ctx() { org }: OrgRequestContext): Promise<AuditRetentionDto> {
    return this.settings.retention(org.id);
  }

  @Put(':orgId/retention')
  @Route({
    permission: Permission.AuditManage,
    summary: 'Set the org’s audit retention period in days (`null`: its plan’s, else the server’s default) (owner)',
    response: AuditRetentionDto,
  })
  setAuditRetention(@Ctx() { org, actor, meta }: OrgRequestContext, @Body() dto: SetAuditRetentionDto): Promise<AuditRetentionDto> {
    return this.settings.setRetention(org.id, dto.days, actor, meta);
  }
}
