import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { OrgRequestContext } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { Ctx } from '../auth/request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { AuditExportEventDto, AuditExportQueryDto, AuditPageDto, AuditQueryDto, AuditVerifyQueryDto, AuditVerifyResultDto } from './audit.dto.js';
import { AuditChain } from './audit-chain.service.js';
import { AuditExport } from './audit-export.service.js';
import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';

@ApiTags('Audit')
@Controller('audit')
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly chain: AuditChain,
    private readonly exporter: AuditExport,
    private readonly repo: AuditRepository,
  ) {}

  @Get(':orgId')
  @Route({
    permission: Permission.AuditRead,
    summary:
      'Query the org’s audit log, newest first, 50 events a page unless `limit` says otherwise: by cursor (`before`/`after`, from `cursors`) or by `offset` (owner/admin)',
    response: AuditPageDto,
  })
  queryAudit(@Ctx() { org }: OrgRequestContext, @Query() query: AuditQueryDto): Promise<AuditPageDto> {
    return this.audit.query(org.id, query);
  }

  @Get(':orgId/verify')
  @Route({
    permission: Permission.AuditRead,
    summary: 'Verify the org’s audit hash chain and its signed checkpoints; reports the first row changed, removed or reordered (owner/admin)',
    response: AuditVerifyResultDto,
  })
  async verifyAudit(@Ctx() { org }: OrgRequestContext, @Query() query: AuditVerifyQueryDto): Promise<AuditVerifyResultDto> {
    if (!query.from && !query.to) return this.chain.verify(org.id);
    const { lo, hi } = await this.repo.seqRange(org.id, query.from, query.to);
    return this.chain.verify(org.id, { fromSeq: BigInt(lo), toSeq: BigInt(hi) });
  }

  @Get(':orgId/export')
  @Route({
    permission: Permission.AuditRead,
    summary: 'Export the org’s audit log, oldest first, as NDJSON (or CSV with `format=csv`), streamed (owner/admin)',
  })
  @ApiExtraModels(AuditExportEventDto)
  @ApiResponse({
    status: 200,
    description: 'A stream: one JSON event per line (NDJSON), or CSV with a header row',
    content: { 'application/x-ndjson': { schema: { $ref: getSchemaPath(AuditExportEventDto) } }, 'text/csv': { schema: { type: 'string' } } },
  })
  async exportAudit(@Ctx() { org, actor, meta }: OrgRequestContext, @Query() query: AuditExportQueryDto): Promise<StreamableFile> {
    const format = query.format ?? 'ndjson';
    const { format: _, ...filter } = query;
    // Fail closed, as a pull: the export is itself audited before anything is sent.
    await this.audit.recordCommitted({ action: 'audit.exported', orgId: org.id, actor, meta, metadata: { format, filter } });
    const stream = await this.exporter.stream(org.id, query);
    return new StreamableFile(stream, {
      type: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      disposition: `attachment; filename="audit-${org.slug}.${format}"`,
    });
  }
}
