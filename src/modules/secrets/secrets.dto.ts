import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
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

export class SetSecretDto extends SecretInputDto {}

export class BulkSecretItemDto extends SecretInputDto {}

export class BulkSetSecretsDto {
  @ApiProperty({ type: [BulkSecretItemDto], minItems: 1, maxItems: BULK_MAX_ITEMS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(BULK_MAX_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => BulkSecretItemDto)
  secrets: BulkSecretItemDto[];
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

/** `limit` omitted = everything; `search` = case-sensitive key prefix (DESIGN.md §6). */
export class ListSecretsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Case-sensitive key prefix', maxLength: SECRET_KEY_MAX })
  @IsOptional()
  @IsString()
  @MaxLength(SECRET_KEY_MAX)
  @IsSingleLineText()
  search?: string;

  @ApiPropertyOptional({
    description: `Exact key names, comma-separated (at most ${KEYS_FILTER_MAX}): only these keys are read, and a pull is audited as reading these keys only`,
    example: 'DATABASE_URL,API_KEY',
    pattern: KEYS_FILTER_PATTERN.source,
  })
  @IsOptional()
  @IsString()
  @MaxLength(KEYS_FILTER_MAX * (SECRET_KEY_MAX + 1))
  @Matches(KEYS_FILTER_PATTERN, { message: 'keys must be secret key names separated by commas' })
  @Validate(KeyCountConstraint)
  keys?: string;
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
}

export class BulkSetResultDto {
  @ApiProperty()
  created: number;

  @ApiProperty()
  updated: number;

  @ApiProperty()
  total: number;
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

  @ApiProperty({ enum: ['set', 'import', 'rollback', 'promote'], description: 'How this version was written' })
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
