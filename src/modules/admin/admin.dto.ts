import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsObject, IsOptional, Max, Min, NotEquals, ValidateIf, ValidateNested } from 'class-validator';
import { PaginationDto } from '../../common/pagination/pagination.dto.js';
import { PLANS, UNLIMITED, type LimitSource, type PlanName } from '../plans/plan-limits.js';

const LIMIT_MAX = 1_000_000_000;
const limitDoc = { minimum: UNLIMITED, maximum: LIMIT_MAX, description: '-1 = unlimited' };

/** Limits as stored: each optional, an integer ≥ -1 (-1 = unlimited). Unknown names are refused. */
export class LimitValuesDto {
  @ApiPropertyOptional(limitDoc)
  @IsOptional()
  @IsInt()
  @Min(UNLIMITED)
  @Max(LIMIT_MAX)
  projectsPerOrg?: number;

  @ApiPropertyOptional(limitDoc)
  @IsOptional()
  @IsInt()
  @Min(UNLIMITED)
  @Max(LIMIT_MAX)
  membersPerOrg?: number;

  @ApiPropertyOptional(limitDoc)
  @IsOptional()
  @IsInt()
  @Min(UNLIMITED)
  @Max(LIMIT_MAX)
  environmentsPerProject?: number;

  @ApiPropertyOptional(limitDoc)
  @IsOptional()
  @IsInt()
  @Min(UNLIMITED)
  @Max(LIMIT_MAX)
  secretsPerEnvironment?: number;

  @ApiPropertyOptional(limitDoc)
  @IsOptional()
  @IsInt()
  @Min(UNLIMITED)
  @Max(LIMIT_MAX)
  webhooksPerOrg?: number;

  @ApiPropertyOptional(limitDoc)
  @IsOptional()
  @IsInt()
  @Min(UNLIMITED)
  @Max(LIMIT_MAX)
  tokensPerUser?: number;

  @ApiPropertyOptional({
    minimum: UNLIMITED,
    maximum: 36_500,
    description: 'Days audit events are kept; -1 = the plan sets no period (AUDIT_RETENTION_DAYS applies, else forever); 0 is refused',
  })
  @IsOptional()
  @IsInt()
  @Min(UNLIMITED)
  @Max(36_500)
  @NotEquals(0, { message: 'auditRetentionDays must be at least 1, or -1' })
  auditRetentionDays?: number;
}

export class UpdateOrgPlanDto {
  @ApiPropertyOptional({ enum: PLANS, nullable: true, description: 'null = the install’s DEFAULT_PLAN' })
  @ValidateIf((_o: unknown, v: unknown) => v !== undefined && v !== null)
  @IsIn(PLANS, { message: `plan must be one of ${PLANS.join(', ')}` })
  plan?: PlanName | null;

  @ApiPropertyOptional({ type: LimitValuesDto, description: 'Replaces the org’s overrides; {} clears them' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => LimitValuesDto)
  limitOverrides?: LimitValuesDto;
}

export class UpdatePlanConfigDto {
  @ApiProperty({ type: LimitValuesDto, description: 'Replaces the plan’s run-time limits; a limit left out falls back to PLAN_LIMITS' })
  @IsObject()
  @ValidateNested()
  @Type(() => LimitValuesDto)
  limits: LimitValuesDto;
}

export class EffectiveLimitDto {
  @ApiProperty({ description: '-1 = unlimited' })
  value: number;

  @ApiProperty({ enum: ['override', 'plan_config', 'default'] })
  source: LimitSource;
}

export class EffectiveLimitsDto {
  @ApiProperty({ type: EffectiveLimitDto })
  projectsPerOrg: EffectiveLimitDto;

  @ApiProperty({ type: EffectiveLimitDto })
  membersPerOrg: EffectiveLimitDto;

  @ApiProperty({ type: EffectiveLimitDto })
  environmentsPerProject: EffectiveLimitDto;

  @ApiProperty({ type: EffectiveLimitDto })
  secretsPerEnvironment: EffectiveLimitDto;

  @ApiProperty({ type: EffectiveLimitDto })
  webhooksPerOrg: EffectiveLimitDto;

  @ApiProperty({ type: EffectiveLimitDto })
  tokensPerUser: EffectiveLimitDto;

  @ApiProperty({ type: EffectiveLimitDto })
  auditRetentionDays: EffectiveLimitDto;
}

export class AdminStatsDto {
  @ApiProperty()
  users: number;

  @ApiProperty()
  orgs: number;

  @ApiProperty()
  projects: number;

  @ApiProperty({ description: 'Secrets currently set (deleted ones excluded)' })
  secrets: number;
}

export class OrgUsageDto {
  @ApiProperty()
  projects: number;

  @ApiProperty()
  members: number;

  @ApiProperty()
  pendingInvites: number;

  @ApiProperty()
  webhooks: number;

  @ApiProperty({ description: 'Secrets currently set, over every project and environment' })
  secrets: number;
}

export class AdminOrgDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  slug: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ enum: PLANS, nullable: true, type: String, description: 'The org’s own plan; null = DEFAULT_PLAN' })
  plan: PlanName | null;

  @ApiProperty({ enum: PLANS, description: 'The plan that applies' })
  effectivePlan: PlanName;

  @ApiProperty({ type: OrgUsageDto })
  usage: OrgUsageDto;

  @ApiProperty()
  createdAt: Date;
}

export class AdminOrgListDto {
  @ApiProperty({ type: [AdminOrgDto] })
  orgs: AdminOrgDto[];

  @ApiPropertyOptional({ type: PaginationDto, description: 'Only when `limit` was given' })
  pagination?: PaginationDto;
}

export class AdminOrgDetailDto extends AdminOrgDto {
  @ApiProperty({ type: LimitValuesDto, description: 'The org’s overrides as stored' })
  limitOverrides: LimitValuesDto;

  @ApiProperty({ type: EffectiveLimitsDto, description: 'Effective limits and where each comes from' })
  limits: EffectiveLimitsDto;
}

export class PlanDto {
  @ApiProperty({ enum: PLANS })
  name: PlanName;

  @ApiProperty({ description: 'The plan of orgs without one (DEFAULT_PLAN)' })
  isDefault: boolean;

  @ApiProperty({ type: LimitValuesDto, description: 'Run-time limits stored in plan_configs' })
  config: LimitValuesDto;

  @ApiProperty({ type: EffectiveLimitsDto, description: 'plan_configs over PLAN_LIMITS' })
  limits: EffectiveLimitsDto;
}

export class PlanListDto {
  @ApiProperty({ type: [PlanDto] })
  plans: PlanDto[];
}
