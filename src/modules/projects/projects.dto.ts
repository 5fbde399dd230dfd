import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { TIERS, type Tier } from '../../common/auth/permissions.js';
import { SLUG_PATTERN } from '../orgs/orgs.dto.js';
import { IsMultiLineText, IsSingleLineText } from '../../common/validation/text.validators.js';

export class CreateProjectDto {
  @ApiProperty({ example: 'Billing API', minLength: 1, maxLength: 100 })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @IsSingleLineText()
  name: string;

  @ApiPropertyOptional({ example: 'billing-api', pattern: SLUG_PATTERN.source, description: 'Derived from the name when omitted' })
  @IsOptional()
  @IsString()
  @Matches(SLUG_PATTERN, { message: `slug must match ${SLUG_PATTERN.source}` })
  slug?: string;

  @ApiPropertyOptional({ maxLength: 1024 })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  @IsMultiLineText()
  description?: string;
}

export class CreateEnvironmentDto {
  @ApiProperty({ example: 'qa', pattern: SLUG_PATTERN.source })
  @IsString()
  @Matches(SLUG_PATTERN, { message: `slug must match ${SLUG_PATTERN.source}` })
  slug: string;

  @ApiPropertyOptional({ example: 'QA', minLength: 1, maxLength: 100, description: 'Defaults to the slug' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @IsSingleLineText()
  name?: string;

  @ApiPropertyOptional({ enum: TIERS, default: 'production', description: 'Decides which roles may read its secrets' })
  @IsOptional()
  @IsIn(TIERS)
  tier?: Tier;
}

export class EnvironmentDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'production' })
  slug: string;

  @ApiProperty({ example: 'Production' })
  name: string;

  @ApiProperty({ enum: TIERS })
  tier: Tier;

  @ApiProperty({ description: 'Secrets currently set (deleted ones not counted)' })
  secretCount: number;

  @ApiProperty({ format: 'date-time' })
  createdAt: Date;
}

export class ProjectDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'billing-api' })
  slug: string;

  @ApiProperty({ example: 'Billing API' })
  name: string;

  @ApiProperty({ type: String, nullable: true })
  description: string | null;

  @ApiProperty({ description: 'Version of the project key new values are encrypted under' })
  keyVersion: number;

  @ApiProperty({ format: 'date-time' })
  createdAt: Date;

  @ApiProperty({ type: [EnvironmentDto] })
  environments: EnvironmentDto[];
}

export class ProjectListDto {
  @ApiProperty({ type: [ProjectDto] })
  projects: ProjectDto[];
}

export class RotateKeyResultDto {
  @ApiProperty({ description: 'The project key version every value is now encrypted under' })
  keyVersion: number;

  @ApiProperty({ description: 'Stored values (current and history) re-encrypted by this call' })
  reencrypted: number;

  @ApiProperty({ type: [Number], description: 'Old key versions whose key material was destroyed' })
  destroyedVersions: number[];

  @ApiProperty({ description: 'True when this call finished a rotation an earlier call had started' })
  resumed: boolean;
}
