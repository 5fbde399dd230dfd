import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { SLUG_PATTERN } from '../../orgs/orgs.dto.js';
import type { TokenAccess } from '../api-token.entity.js';
import { IsSingleLineText } from '../../../common/validation/text.validators.js';

export const OIDC_TTL_DEFAULT_SECONDS = 900;
export const OIDC_TTL_MIN_SECONDS = 60;
export const OIDC_TTL_MAX_SECONDS = 3600;
const CONDITIONS_MAX = 20;
/** A JWT of a CI provider is 1–2 KB; 16 KiB leaves room and bounds the work. */
export const OIDC_JWT_MAX = 16_384;
const CLAIM_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

export class ClaimConditionDto {
  @ApiProperty({ example: 'repository', maxLength: 64, pattern: CLAIM_PATTERN.source, description: 'A claim of the CI token (string, number or boolean)' })
  @IsString()
  @Matches(CLAIM_PATTERN, { message: `claim must match ${CLAIM_PATTERN.source}` })
  claim: string;

  @ApiProperty({
    example: 'acme/api',
    minLength: 1,
    maxLength: 256,
    description: 'The value the claim must have: exact, or a glob where `*` is any run of characters and `?` one character',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  @IsSingleLineText()
  pattern: string;
}

export class CreateOidcTrustDto {
  @ApiProperty({ example: 'github-deploy', pattern: SLUG_PATTERN.source, description: 'Unique in the org' })
  @IsString()
  @Matches(SLUG_PATTERN, { message: `name must match ${SLUG_PATTERN.source}` })
  name: string;

  @ApiProperty({ example: 'https://token.actions.githubusercontent.com', maxLength: 512, description: "The `iss` of the CI's tokens (https)" })
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  @IsSingleLineText()
  issuer: string;

  @ApiProperty({ example: 'https://api.secr.dev', minLength: 1, maxLength: 256, description: 'The `aud` the CI must ask for' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  @IsSingleLineText()
  audience: string;

  @ApiProperty({
    type: [ClaimConditionDto],
    minItems: 1,
    maxItems: CONDITIONS_MAX,
    description: 'Every condition must hold (at least one: an issuer such as GitHub signs tokens for every repository on it)',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(CONDITIONS_MAX)
  @ValidateNested({ each: true })
  @Type(() => ClaimConditionDto)
  conditions: ClaimConditionDto[];

  @ApiProperty({ example: 'billing-api', maxLength: 64, description: 'The slug of the project the minted tokens reach' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @IsSingleLineText()
  project: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['production'],
    minItems: 1,
    maxItems: 20,
    description: 'Only these environments (slugs; dev/stg/prod accepted); omitted = every environment of the project',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(SLUG_PATTERN, { each: true, message: `each environment must match ${SLUG_PATTERN.source}` })
  environments?: string[];

  @ApiProperty({ enum: ['read', 'read_write'], description: 'read: pull and list only; read_write: also change' })
  @IsIn(['read', 'read_write'])
  access: TokenAccess;

  @ApiPropertyOptional({
    minimum: OIDC_TTL_MIN_SECONDS,
    maximum: OIDC_TTL_MAX_SECONDS,
    default: OIDC_TTL_DEFAULT_SECONDS,
    description: 'Lifetime of a minted token, at most the CI token’s own',
  })
  @IsOptional()
  @IsInt()
  @Min(OIDC_TTL_MIN_SECONDS)
  @Max(OIDC_TTL_MAX_SECONDS)
  ttlSeconds?: number;
}

/** Present means validated; absent means "leave as it is". `null` is refused but for `environments`. */
const unlessAbsent = ValidateIf((_object: unknown, value: unknown) => value !== undefined);

/**
 * What may change; the issuer and the project may not (create another relationship). Tokens minted
 * before keep the scope they were minted with, for their short life.
 */
export class UpdateOidcTrustDto {
  @ApiPropertyOptional({ example: 'https://api.secr.dev', minLength: 1, maxLength: 256 })
  @unlessAbsent
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  @IsSingleLineText()
  audience?: string;

  @ApiPropertyOptional({ type: [ClaimConditionDto], minItems: 1, maxItems: CONDITIONS_MAX })
  @unlessAbsent
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(CONDITIONS_MAX)
  @ValidateNested({ each: true })
  @Type(() => ClaimConditionDto)
  conditions?: ClaimConditionDto[];

  @ApiPropertyOptional({
    type: [String],
    nullable: true,
    example: ['production'],
    minItems: 1,
    maxItems: 20,
    description: 'null = every environment of the project',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(SLUG_PATTERN, { each: true, message: `each environment must match ${SLUG_PATTERN.source}` })
  environments?: string[] | null;

  @ApiPropertyOptional({ enum: ['read', 'read_write'] })
  @unlessAbsent
  @IsIn(['read', 'read_write'])
  access?: TokenAccess;

  @ApiPropertyOptional({ minimum: OIDC_TTL_MIN_SECONDS, maximum: OIDC_TTL_MAX_SECONDS })
  @unlessAbsent
  @IsInt()
  @Min(OIDC_TTL_MIN_SECONDS)
  @Max(OIDC_TTL_MAX_SECONDS)
  ttlSeconds?: number;
}

export class OidcTrustDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  orgId: string;

  @ApiProperty()
  name: string;

  @ApiProperty()
  issuer: string;

  @ApiProperty()
  audience: string;

  @ApiProperty({ type: [ClaimConditionDto] })
  conditions: ClaimConditionDto[];

  @ApiProperty({ format: 'uuid' })
  projectId: string;

  @ApiProperty()
  projectSlug: string;

  @ApiProperty({ type: [String], nullable: true, description: 'null = every environment of the project' })
  environments: string[] | null;

  @ApiProperty({ enum: ['read', 'read_write'] })
  access: TokenAccess;

  @ApiProperty()
  ttlSeconds: number;

  @ApiProperty({ type: String, format: 'uuid', description: 'The member whose role (∩ this scope) the minted tokens carry' })
  createdBy: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: Date;
}

export class OidcTrustListDto {
  @ApiProperty({ type: [OidcTrustDto] })
  trusts: OidcTrustDto[];
}

export class OidcExchangeDto {
  @ApiProperty({ format: 'uuid', description: 'The trust relationship to use (`secr oidc ls`)' })
  @IsUUID()
  trustId: string;

  @ApiProperty({ maxLength: OIDC_JWT_MAX, description: "The CI job's OIDC token (a JWT)" })
  @IsString()
  @MinLength(1)
  @MaxLength(OIDC_JWT_MAX)
  @Matches(/^[A-Za-z0-9_=-]*\.[A-Za-z0-9_=-]*\.[A-Za-z0-9_=-]*$/, { message: 'token must be a JWT (three base64url parts)' })
  token: string;
}

export class OidcExchangedDto {
  @ApiProperty({ description: 'A secr_tok_ token, shown once' })
  token: string;

  @ApiProperty({ format: 'uuid' })
  tokenId: string;

  @ApiProperty({ format: 'date-time' })
  expiresAt: Date;

  @ApiProperty({ enum: ['read', 'read_write'] })
  access: TokenAccess;

  @ApiProperty({ example: 'acme' })
  orgSlug: string;

  @ApiProperty({ example: 'billing-api' })
  projectSlug: string;

  @ApiProperty({ type: [String], nullable: true })
  environments: string[] | null;
}
