import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { SLUG_PATTERN } from '../orgs/orgs.dto.js';
import { PageQueryDto, PaginationDto } from '../../common/pagination/pagination.dto.js';
import { SECRET_EVENTS, type SecretEventName } from './secret-event.js';
import { IsMultiLineText, IsSingleLineText } from '../../common/validation/text.validators.js';

export const URL_MAX = 2048;
export const DESCRIPTION_MAX = 1024;
/** A project slug (≤ 63) or id (36). */
const PROJECT_REF_MAX = 64;
const ENVIRONMENTS_MAX = 20;
const OUTCOMES = ['delivered', 'retrying', 'failed'] as const;

const slugEach = { each: true, message: `each environment must match ${SLUG_PATTERN.source}` };
/** Present means validated; absent means "leave as it is" (PATCH). `null` is refused. */
const unlessAbsent = ValidateIf((_object: unknown, value: unknown) => value !== undefined);

export class CreateWebhookDto {
  @ApiProperty({ example: 'https://hooks.example.com/secr', maxLength: URL_MAX, description: 'https; must resolve to public addresses only' })
  @IsString()
  @MinLength(1)
  @MaxLength(URL_MAX)
  @IsSingleLineText()
  url: string;

  @ApiProperty({ enum: SECRET_EVENTS, isArray: true, example: ['secret.updated'], minItems: 1, maxItems: SECRET_EVENTS.length })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(SECRET_EVENTS.length)
  @ArrayUnique()
  @IsIn(SECRET_EVENTS, { each: true, message: `each event must be one of ${SECRET_EVENTS.join(', ')}` })
  events: SecretEventName[];

  @ApiPropertyOptional({
    example: 'billing-api',
    maxLength: PROJECT_REF_MAX,
    description: 'Only events of this project (its slug or id); omitted = every project',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(PROJECT_REF_MAX)
  @IsSingleLineText()
  project?: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['production'],
    minItems: 1,
    maxItems: ENVIRONMENTS_MAX,
    description: 'Only events of these environments (slugs; dev/stg/prod accepted); omitted = every environment',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(ENVIRONMENTS_MAX)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(SLUG_PATTERN, slugEach)
  environments?: string[];

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ example: 'Deploy bot', maxLength: DESCRIPTION_MAX })
  @IsOptional()
  @IsString()
  @MaxLength(DESCRIPTION_MAX)
  @IsMultiLineText()
  description?: string;
}

/** Every field optional; `project`, `environments` and `description` take `null` to clear the filter or text. */
export class UpdateWebhookDto {
  @ApiPropertyOptional({ example: 'https://hooks.example.com/secr', maxLength: URL_MAX })
  @unlessAbsent
  @IsString()
  @MinLength(1)
  @MaxLength(URL_MAX)
  @IsSingleLineText()
  url?: string;

  @ApiPropertyOptional({ enum: SECRET_EVENTS, isArray: true, example: ['secret.updated', 'secret.deleted'], minItems: 1, maxItems: SECRET_EVENTS.length })
  @unlessAbsent
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(SECRET_EVENTS.length)
  @ArrayUnique()
  @IsIn(SECRET_EVENTS, { each: true, message: `each event must be one of ${SECRET_EVENTS.join(', ')}` })
  events?: SecretEventName[];

  @ApiPropertyOptional({ type: String, nullable: true, example: 'billing-api', maxLength: PROJECT_REF_MAX, description: 'null = every project' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(PROJECT_REF_MAX)
  @IsSingleLineText()
  project?: string | null;

  @ApiPropertyOptional({
    type: [String],
    nullable: true,
    example: ['production'],
    minItems: 1,
    maxItems: ENVIRONMENTS_MAX,
    description: 'null = every environment',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(ENVIRONMENTS_MAX)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(SLUG_PATTERN, slugEach)
  environments?: string[] | null;

  @ApiPropertyOptional({ example: false })
  @unlessAbsent
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: DESCRIPTION_MAX })
  @IsOptional()
  @IsString()
  @MaxLength(DESCRIPTION_MAX)
  @IsMultiLineText()
  description?: string | null;
}

/** `limit` omitted = the 50 newest attempts. */
export class DeliveryLogQueryDto extends PageQueryDto {}

export class WebhookProjectDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'billing-api' })
  slug: string;
}

export class WebhookDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'https://hooks.example.com/secr' })
  url: string;

  @ApiProperty({ type: String, nullable: true })
  description: string | null;

  @ApiProperty({ enum: SECRET_EVENTS, isArray: true })
  events: string[];

  @ApiProperty({ type: WebhookProjectDto, nullable: true, description: 'null = every project' })
  project: WebhookProjectDto | null;

  @ApiProperty({ type: [String], nullable: true, description: 'Environment slugs; null = every environment' })
  environments: string[] | null;

  @ApiProperty()
  enabled: boolean;

  @ApiProperty({ example: 'whsec_4fQz…', description: 'The first characters of the signing secret' })
  secretHint: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: Date;

  @ApiProperty({ format: 'date-time' })
  updatedAt: Date;
}

export class CreatedWebhookDto extends WebhookDto {
  @ApiProperty({
    example: 'whsec_2u7M1J0bq3Yv9xQeR8tLpZ4nKcW6aFhD1sGmXoVyTiE',
    description: 'The signing secret (HMAC-SHA256 key of X-Secr-Signature). Shown only in this response: store it now',
  })
  secret: string;
}

export class WebhookListDto {
  @ApiProperty({ type: [WebhookDto] })
  webhooks: WebhookDto[];
}

export class WebhookDeliveryDto {
  @ApiProperty({ example: '42' })
  id: string;

  @ApiProperty({ format: 'uuid', description: 'The X-Secr-Delivery header: the same for every attempt of one delivery' })
  deliveryId: string;

  @ApiProperty({ example: 'secret.updated' })
  event: string;

  @ApiProperty({ example: 1 })
  attempt: number;

  @ApiProperty({ enum: OUTCOMES, description: 'delivered: 2xx; retrying: another attempt is scheduled; failed: no further attempt' })
  outcome: string;

  @ApiProperty({ type: Number, nullable: true, description: "The receiver's HTTP status; null when there was no answer" })
  statusCode: number | null;

  @ApiProperty()
  durationMs: number;

  @ApiProperty({ type: String, nullable: true, example: 'HTTP 503' })
  error: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The first 1 KiB of the answer' })
  response: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: Date;
}

export class WebhookDetailDto extends WebhookDto {
  @ApiProperty({ type: [WebhookDeliveryDto], description: 'Delivery attempts, newest first' })
  deliveries: WebhookDeliveryDto[];

  @ApiProperty({ type: PaginationDto })
  pagination: PaginationDto;
}

export class TestDeliveryDto {
  @ApiProperty({ format: 'uuid', description: 'The X-Secr-Delivery of the test delivery; its attempt shows in the delivery log' })
  deliveryId: string;
}
