import { Body, Controller, Get, Param, Patch, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { RequestContext } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { Ctx } from '../auth/request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { PageQueryDto } from '../../common/pagination/pagination.dto.js';
import { ParseUuidPipe } from '../../common/validation/parse-uuid.pipe.js';
import { AdminOrgDetailDto, AdminOrgListDto, AdminStatsDto, PlanDto, PlanListDto, UpdateOrgPlanDto, UpdatePlanConfigDto } from './admin.dto.js';
import { AdminService } from './admin.service.js';
import { MetricsQueryDto, MetricsSummaryDto } from '../metrics/metrics.dto.js';
import { MetricsService } from '../metrics/metrics.service.js';

@ApiTags('Admin')
@Controller('admin')
export class AdminController {
  constructor(
    private readonly admin: AdminService,
    private readonly metrics: MetricsService,
  ) {}

  @Get('stats')
  @Route({ permission: Permission.AdminRead, summary: 'Counts of users, orgs, projects and secrets (instance admins)', response: AdminStatsDto })
  stats(): Promise<AdminStatsDto> {
    return this.admin.stats();
  }

  @Get('orgs')
  @Route({ permission: Permission.AdminRead, summary: 'Every org with its plan and usage (instance admins)', response: AdminOrgListDto })
  listOrgs(@Query() query: PageQueryDto): Promise<AdminOrgListDto> {
    return this.admin.listOrgs(query);
  }

  @Get('orgs/:orgId')
  @Route({
    permission: Permission.AdminRead,
    summary: 'An org with its usage and effective limits, and where each comes from (instance admins)',
    response: AdminOrgDetailDto,
  })
  getOrg(@Param('orgId', ParseUuidPipe) orgId: string): Promise<AdminOrgDetailDto> {
    return this.admin.getOrg(orgId);
  }

  @Patch('orgs/:orgId')
  @Route({ permission: Permission.AdminWrite, summary: "Set an org's plan and/or limit overrides (instance admins)", response: AdminOrgDetailDto })
  updateOrg(@Ctx() { actor, meta }: RequestContext, @Param('orgId', ParseUuidPipe) orgId: string, @Body() dto: UpdateOrgPlanDto): Promise<AdminOrgDetailDto> {
    return this.admin.updateOrg(actor, orgId, dto, meta);
  }

  @Get('plans')
  @Route({ permission: Permission.AdminRead, summary: 'The plans with their run-time and effective limits (instance admins)', response: PlanListDto })
  listPlans(): Promise<PlanListDto> {
    return this.admin.listPlans();
  }

  @Put('plans/:planName')
  @Route({ permission: Permission.AdminWrite, summary: "Replace a plan's run-time limits in plan_configs (instance admins)", response: PlanDto })
  updatePlan(@Ctx() { actor, meta }: RequestContext, @Param('planName') planName: string, @Body() dto: UpdatePlanConfigDto): Promise<PlanDto> {
    return this.admin.updatePlan(actor, planName, dto, meta);
  }

  @Get('metrics/summary')
  @Route({
    permission: Permission.AdminRead,
    summary: 'Requests per hour and route: count, errors, p50/p95 latency (instance admins)',
    response: MetricsSummaryDto,
  })
  async metricsSummary(@Query() query: MetricsQueryDto): Promise<MetricsSummaryDto> {
    const hours = query.hours ?? 24;
    return { hours, rows: await this.metrics.summary(hours) };
  }
}
