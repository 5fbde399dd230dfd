import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { OrgRequestContext } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { Ctx } from '../auth/request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { AuditPageDto, AuditQueryDto } from './audit.dto.js';
import { AuditService } from './audit.service.js';

@ApiTags('Audit')
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get(':orgId')
  @Route({
    permission: Permission.AuditRead,
    summary: 'Query the org’s audit log, newest first, 50 events a page unless `limit` says otherwise (owner/admin)',
    response: AuditPageDto,
  })
  queryAudit(@Ctx() { org }: OrgRequestContext, @Query() query: AuditQueryDto): Promise<AuditPageDto> {
    return this.audit.query(org.id, query);
  }
}
