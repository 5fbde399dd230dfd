import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsISO8601,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
  Validate,
} from 'class-validator';
import { INT4_MAX, PageQueryDto, PaginationDto } from '../../common/pagination/pagination.dto.js';
import { IsMultiLineText, IsSingleLineText } from '../../common/validation/text.validators.js';
import { SLUG_PATTERN } from '../orgs/orgs.dto.js';

export const SECRET_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const SECRET_KEY_MAX = 256;
export const VALUE_MAX_BYTES = 64 * 1024;
export const DESCRIPTION_MAX_BYTES = 1024;
export const BULK_MAX_ITEMS = 2000;

/** Limits in bytes (UTF-8), as DESIGN.md §6 states them, not in UTF-16 code units. */
@ValidatorConstraint({ name: 'maxBytes' })
class MaxBytes implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    return typeof value === 'string' && Buffer.byteLength(value, 'utf8') <= (args.constraints[0] as number);
  }
  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must be at most ${args.constraints[0]} bytes`;
  }
}

const keyMessage = { message: `key must match ${SECRET_KEY_PATTERN.source}` };

class SecretInputDto {
  @ApiProperty({ example: 'DATABASE_URL', pattern: SECRET_KEY_PATTERN.source, maxLength: SECRET_KEY_MAX })
  @IsString()
  @MaxLength(SECRET_KEY_MAX)
  @Matches(SECRET_KEY_PATTERN, keyMessage)
  key: string;

  @ApiProperty({ example: 'postgres://app:…@db:5432/app', description: `At most ${VALUE_MAX_BYTES} bytes` })
  @IsString()
  @Validate(MaxBytes, [VALUE_MAX_BYTES])
  value: string;

  @ApiPropertyOptional({ example: 'Primary database', description: `At most ${DESCRIPTION_MAX_BYTES} bytes; omitted = keep the current one` })
  @IsOptional()
  @IsString()
  @Validate(MaxBytes, [DESCRIPTION_MAX_BYTES])
  @IsMultiLineText()
  description?: string;
}

export class SetSecretDto extends SecretInputDto {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: INT4_MAX,
    description:
      'Check-and-set: write only if the key is at this version (0: only if it is not set); otherwise 409 `conflict` with `currentVersion`. The `If-Match` header does the same',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(INT4_MAX)
  expectedVersion?: number;
}

export class BulkSecretItemDto extends SecretInputDto {}

export class BulkSetSecretsDto {
  @ApiProperty({ type: [BulkSecretItemDto], minItems: 1, maxItems: BULK_MAX_ITEMS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(BULK_MAX_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => BulkSecretItemDto)
  secrets: BulkSecretItemDto[];

  @ApiPropertyOptional({
    minimum: 0,
    maximum: INT4_MAX,
    description:
      'Write only if none of these keys was written or deleted after this version of the environment (`environmentVersion` of the key list or of an earlier write, a pull’s `X-Secr-Environment-Version`, or a change stream event id); otherwise 409 `conflict` naming them',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(INT4_MAX)
  ifEnvironmentVersion?: number;
}

export class RollbackSecretDto {
  @ApiProperty({ example: 'DATABASE_URL', pattern: SECRET_KEY_PATTERN.source })
  @IsString()
  @MaxLength(SECRET_KEY_MAX)
  @Matches(SECRET_KEY_PATTERN, keyMessage)
  key: string;

  @ApiProperty({ minimum: 1, maximum: INT4_MAX, description: 'The earlier version whose value becomes the new current version' })
  @IsInt()
  @Min(1)
  @Max(INT4_MAX)
  version: number;
}

export class BulkDeleteSecretsDto {
  @ApiProperty({ type: [String], example: ['OLD_KEY', 'LEGACY_TOKEN'], minItems: 1, maxItems: BULK_MAX_ITEMS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(BULK_MAX_ITEMS)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(SECRET_KEY_MAX, { each: true })
  @Matches(SECRET_KEY_PATTERN, { each: true, message: `each key must match ${SECRET_KEY_PATTERN.source}` })
  keys: string[];
}

export const KEYS_FILTER_MAX = 100;
const KEYS_FILTER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(,[A-Za-z_][A-Za-z0-9_]*)*$/;

/** The key names of a `keys` filter, without repeats. */
export function keysFilter(keys: string | undefined): string[] | undefined {
  return keys === undefined ? undefined : [...new Set(keys.split(','))];
}

@ValidatorConstraint({ name: 'keyCount' })
class KeyCountConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return true;
    const keys = value.split(',');
    return keys.length <= KEYS_FILTER_MAX && keys.every((key) => key.length <= SECRET_KEY_MAX);
  }
  defaultMessage(args: ValidationArguments): string {
    return `${args.property} names at most ${KEYS_FILTER_MAX} keys of at most ${SECRET_KEY_MAX} characters each`;
  }
}

/** An optional `keys` query parameter: exact key names, comma-separated. */
function KeysFilterParam(description: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ description, example: 'DATABASE_URL,API_KEY', pattern: KEYS_FILTER_PATTERN.source }),
    IsOptional(),
    IsString(),
    MaxLength(KEYS_FILTER_MAX * (SECRET_KEY_MAX + 1)),
    Matches(KEYS_FILTER_PATTERN, { message: 'keys must be secret key names separated by commas' }),
    Validate(KeyCountConstraint),
  );
}

/** `limit` omitted = everything; `search` = case-sensitive key prefix (DESIGN.md §6). */
export class ListSecretsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Case-sensitive key prefix', maxLength: SECRET_KEY_MAX })
  @IsOptional()
  @IsString()
  @MaxLength(SECRET_KEY_MAX)
  @IsSingleLineText()
  search?: string;

  @KeysFilterParam(`Exact key names, comma-separated (at most ${KEYS_FILTER_MAX}): only these keys are read, and a pull is audited as reading these keys only`)
  keys?: string;
}

/** A pull's query: the list filters, and whether references are resolved (the default) or the stored text is returned. */
export class PullSecretsQueryDto extends ListSecretsQueryDto {
  @ApiPropertyOptional({
    enum: ['true', 'false'],
    default: 'false',
    description:
      'true: each value as stored, references (`${KEY}`, `${env.KEY}`) unresolved. Default: references resolved on the server (read access to every environment they reach is required)',
  })
  @IsOptional()
  @IsIn(['true', 'false'])
  raw?: 'true' | 'false';
}

export class SecretMetaDto {
  @ApiProperty({ example: 'DATABASE_URL' })
  key: string;

  @ApiProperty({ type: String, nullable: true })
  description: string | null;

  @ApiProperty({ example: 3 })
  version: number;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

/** A secret with its decrypted value. */
export class SecretDto extends SecretMetaDto {
  @ApiProperty({ description: 'The decrypted value' })
  value: string;
}

export class PullSecretsDto {
  @ApiProperty({ type: [SecretDto] })
  secrets: SecretDto[];

  @ApiPropertyOptional({ type: PaginationDto, description: 'Present when `limit` was given' })
  pagination?: PaginationDto;
}

export class ListKeysDto {
  @ApiProperty({ type: [SecretMetaDto] })
  keys: SecretMetaDto[];

  @ApiProperty({
    description: 'The environment’s version: the change-log position (change stream event id) of its latest write or delete (for `ifEnvironmentVersion`)',
  })
  environmentVersion: number;

  @ApiPropertyOptional({ type: PaginationDto, description: 'Present when `limit` was given' })
  pagination?: PaginationDto;
}

export class SetSecretResultDto {
  @ApiProperty({ example: 'DATABASE_URL' })
  key: string;

  @ApiProperty({ example: 1 })
  version: number;

  @ApiProperty({ description: 'True when the key did not exist (or had been deleted)' })
  created: boolean;

  @ApiProperty({ description: 'True when the key already had this value and description: nothing was written (no version, webhook or audit row)' })
  unchanged: boolean;
}

export class BulkSetResultDto {
  @ApiProperty()
  created: number;

  @ApiProperty()
  updated: number;

  @ApiProperty({ description: 'Keys that already had the value and description given: not written' })
  unchanged: number;

  @ApiProperty({ description: 'Every key of the request' })
  total: number;

  @ApiProperty({ description: 'The environment’s version after the import: the change stream event id of this write (for `ifEnvironmentVersion`)' })
  environmentVersion: number;
}

export class ActorRefDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  email: string;
}

export class SecretVersionDto {
  @ApiProperty()
  version: number;

  @ApiProperty()
  value: string;

  @ApiProperty({ type: String, nullable: true })
  description: string | null;

  @ApiProperty({ enum: ['set', 'import', 'rollback', 'promote', 'restore'], description: 'How this version was written' })
  source: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: Date;

  @ApiProperty({ type: ActorRefDto, nullable: true, description: 'Who wrote it; null if that account was deleted' })
  createdBy: ActorRefDto | null;
}

export class SecretHistoryDto {
  @ApiProperty()
  key: string;

  @ApiProperty({ description: 'True when the key is soft-deleted (its history stays)' })
  deleted: boolean;

  @ApiProperty({ type: [SecretVersionDto], description: 'Newest first' })
  versions: SecretVersionDto[];
}

export class RollbackResultDto {
  @ApiProperty()
  key: string;

  @ApiProperty({ description: 'The new current version' })
  version: number;

  @ApiProperty({ description: 'The version whose value it carries' })
  restoredFrom: number;
}

export class DeleteSecretResultDto {
  @ApiProperty({ example: true })
  deleted: boolean;

  @ApiProperty()
  key: string;
}

export class BulkDeleteResultDto {
  @ApiProperty()
  deleted: number;

  @ApiProperty({ type: [String] })
  keys: string[];
}

export const DIFF_STATUSES = ['only_in_source', 'only_in_target', 'changed', 'identical'] as const;
export type DiffStatus = (typeof DIFF_STATUSES)[number];

export class DiffQueryDto {
  @ApiProperty({ example: 'staging', description: 'Source environment (slug or alias)' })
  @IsString()
  @Matches(SLUG_PATTERN, { message: `from must match ${SLUG_PATTERN.source}` })
  from: string;

  @ApiProperty({ example: 'production', description: 'Target environment (slug or alias)' })
  @IsString()
  @Matches(SLUG_PATTERN, { message: `to must match ${SLUG_PATTERN.source}` })
  to: string;

  @KeysFilterParam(`Only these keys, comma-separated (at most ${KEYS_FILTER_MAX})`)
  keys?: string;

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    default: 'false',
    description: 'Also return both values of each key (audited as a read of both environments)',
  })
  @IsOptional()
  @IsIn(['true', 'false'])
  showValues?: 'true' | 'false';
}

export class DiffEntryDto {
  @ApiProperty({ example: 'DATABASE_URL' })
  key: string;

  @ApiProperty({ enum: DIFF_STATUSES })
  status: DiffStatus;

  @ApiPropertyOptional({ description: 'Current version in the source (absent: not set there)' })
  sourceVersion?: number;

  @ApiPropertyOptional({ description: 'Current version in the target (absent: not set there)' })
  targetVersion?: number;

  @ApiPropertyOptional({ description: 'With showValues: the source value' })
  sourceValue?: string;

  @ApiPropertyOptional({ description: 'With showValues: the target value' })
  targetValue?: string;
}

export class DiffCountsDto {
  @ApiProperty()
  onlyInSource: number;

  @ApiProperty()
  onlyInTarget: number;

  @ApiProperty()
  changed: number;

  @ApiProperty()
  identical: number;
}

export class EnvironmentDiffDto {
  @ApiProperty({ example: 'staging' })
  from: string;

  @ApiProperty({ example: 'production' })
  to: string;

  @ApiProperty({ description: 'True when any key is only in one environment or has a different value' })
  differ: boolean;

  @ApiProperty({ type: DiffCountsDto })
  counts: DiffCountsDto;

  @ApiProperty({ type: [DiffEntryDto], description: 'Every key set in either environment, in byte order' })
  keys: DiffEntryDto[];
}

export class RestoreSecretsDto {
  @ApiProperty({ format: 'date-time', example: '2026-11-30T12:00:00Z', description: 'The past instant to restore the environment to (ISO 8601)' })
  @IsString()
  @MaxLength(64)
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date and time, such as 2026-11-30T12:00:00Z' })
  to: string;

  @ApiPropertyOptional({ type: [String], example: ['DATABASE_URL'], minItems: 1, maxItems: BULK_MAX_ITEMS, description: 'Only these keys (default: all)' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(BULK_MAX_ITEMS)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(SECRET_KEY_MAX, { each: true })
  @Matches(SECRET_KEY_PATTERN, { each: true, message: `each key must match ${SECRET_KEY_PATTERN.source}` })
  keys?: string[];

  @ApiPropertyOptional({ default: false, description: 'Answer the plan; change nothing' })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}

export const RESTORE_ACTIONS = ['restored', 'revived', 'deleted', 'unchanged'] as const;
export type RestoreAction = (typeof RESTORE_ACTIONS)[number];

export class RestoredKeyDto {
  @ApiProperty({ example: 'DATABASE_URL' })
  key: string;

  @ApiProperty({
    enum: RESTORE_ACTIONS,
    description:
      '`restored`: set then and now, to another value: the old one becomes a new version; `revived`: set then, deleted since: it comes back; `deleted`: created since: soft-deleted; `unchanged`: as it was',
  })
  action: RestoreAction;

  @ApiPropertyOptional({ description: 'The version current at `to` (absent for `deleted`)' })
  fromVersion?: number;

  @ApiPropertyOptional({ description: 'The new version written (absent for a dry run, `deleted` and `unchanged`)' })
  version?: number;
}

export class RestoreResultDto {
  @ApiProperty({ format: 'date-time' })
  to: string;

  @ApiProperty()
  dryRun: boolean;

  @ApiProperty()
  restored: number;

  @ApiProperty()
  revived: number;

  @ApiProperty()
  deleted: number;

  @ApiProperty()
  unchanged: number;

  @ApiProperty({ type: [RestoredKeyDto], description: 'Per key, in byte order; names and versions, never values' })
  results: RestoredKeyDto[];
}
