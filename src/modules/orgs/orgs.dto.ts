import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { ROLES, type Role } from '../../common/auth/permissions.js';
import { IsSingleLineText } from '../../common/validation/text.validators.js';

export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export class CreateOrgDto {
  @ApiProperty({ example: 'Acme Inc.', minLength: 1, maxLength: 100 })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @IsSingleLineText()
  name: string;

  @ApiPropertyOptional({ example: 'acme', pattern: SLUG_PATTERN.source, description: 'Derived from the name when omitted' })
  @IsOptional()
  @IsString()
  @Matches(SLUG_PATTERN, { message: `slug must match ${SLUG_PATTERN.source}` })
  slug?: string;
}

export class OrgDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'acme' })
  slug: string;

  @ApiProperty({ example: 'Acme Inc.' })
  name: string;

  @ApiProperty({ enum: ROLES, description: 'Your role in the org' })
  role: Role;

  @ApiProperty({ format: 'date-time' })
  createdAt: Date;
}
