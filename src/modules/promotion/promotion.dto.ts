import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { SLUG_PATTERN } from '../orgs/orgs.dto.js';
import { SECRET_KEY_MAX, SECRET_KEY_PATTERN } from '../secrets/secrets.dto.js';

export const PROMOTE_MAX_KEYS = 10_000;

export class PromoteSecretsDto {
  @ApiProperty({ example: 'staging', description: 'Source environment (slug or alias)' })
  @IsString()
  @Matches(SLUG_PATTERN, { message: `fromEnv must match ${SLUG_PATTERN.source}` })
  fromEnv: string;

  @ApiProperty({ example: 'production', description: 'Target environment (slug or alias)' })
  @IsString()
  @Matches(SLUG_PATTERN, { message: `toEnv must match ${SLUG_PATTERN.source}` })
  toEnv: string;

  @ApiPropertyOptional({ type: [String], example: ['DATABASE_URL', 'REDIS_URL'], description: 'Only these keys (default: all)' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(PROMOTE_MAX_KEYS)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(SECRET_KEY_MAX, { each: true })
  @Matches(SECRET_KEY_PATTERN, { each: true, message: `each key must match ${SECRET_KEY_PATTERN.source}` })
  keys?: string[];

  @ApiPropertyOptional({ default: false, description: 'Update keys that already exist in the target' })
  @IsOptional()
  @IsBoolean()
  overwrite?: boolean;

  @ApiPropertyOptional({ default: false, description: 'Report what would happen; change nothing' })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}

export const PROMOTION_ACTIONS = ['created', 'updated', 'skipped'] as const;
export type PromotionAction = (typeof PROMOTION_ACTIONS)[number];
export const PROMOTION_DIFFERENCES = ['new', 'changed', 'identical', 'exists'] as const;
export type PromotionDifference = (typeof PROMOTION_DIFFERENCES)[number];

export class PromotedKeyDto {
  @ApiProperty({ example: 'DATABASE_URL' })
  key: string;

  @ApiProperty({ enum: PROMOTION_ACTIONS })
  action: PromotionAction;

  @ApiProperty({
    enum: PROMOTION_DIFFERENCES,
    description:
      '`new`: not set in the target; `changed`: set there to another value (overwritten only with `overwrite`); `identical`: set to the same value (always skipped); `exists`: set there, not compared because the caller may not read the target environment (overwritten only with `overwrite`, even if the value is the same)',
  })
  difference: PromotionDifference;
}

export class PromoteResultDto {
  @ApiProperty({ description: 'created + updated' })
  promoted: number;

  @ApiProperty({ description: 'New in the target' })
  created: number;

  @ApiProperty({ description: 'Overwritten in the target (a new version each)' })
  updated: number;

  @ApiProperty({ description: 'Existed in the target and were left alone (identical, or overwrite false)' })
  skipped: number;

  @ApiProperty({ description: 'True when nothing was changed' })
  dryRun: boolean;

  @ApiProperty({ type: [PromotedKeyDto], description: 'What happened (or would happen) to each key; names only, never values' })
  results: PromotedKeyDto[];
}
