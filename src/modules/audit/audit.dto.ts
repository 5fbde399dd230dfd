import { ApiProperty, ApiPropertyOptional, IntersectionType, OmitType } from '@nestjs/swagger';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { PageQueryDto, PaginationDto } from '../../common/pagination/pagination.dto.js';
import { PLANS, type PlanName } from '../plans/plan-limits.js';
import { SECRET_KEY_MAX, SECRET_KEY_PATTERN } from '../secrets/secrets.dto.js';

/** An opaque position in an org's audit log, as returned in `cursors`. */
const CURSOR = /^[A-Za-z0-9_-]{1,64}$/;

/** The filters of the audit log, shared by the page and the export; each is served by an index. */
export class AuditFilterDto {
  @ApiPropertyOptional({ example: 'secret.read', description: 'Only events with this action' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]+\.[a-z_]+$/, { message: 'action must look like secret.read' })
  action?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only events of this actor (a user id)' })
  @IsOptional()
  @IsUUID('all', { message: 'actor must be a user id (a UUID)' })
  actor?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only events about this project (its id)' })
  @IsOptional()
  @IsUUID('all', { message: 'projectId must be a UUID' })
  projectId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only events about this environment (its id)' })
  @IsOptional()
  @IsUUID('all', { message: 'environmentId must be a UUID' })
  environmentId?: string;

  @ApiPropertyOptional({
    example: 'DATABASE_URL',
    description: 'Only events naming this secret key (one key, or among the keys of a bulk change or named pull)',
  })
  @IsOptional()
  @IsString()
  @Matches(SECRET_KEY_PATTERN, { message: 'key must be a secret key name' })
  @MaxLength(SECRET_KEY_MAX)
  key?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Only events at or after this time' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Only events before this time' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date-time' })
  to?: string;
}

/**
 * `limit` omitted = 50 events. Newest first. With `before` (the `cursors.before` of a page: older events) or
 * `after` (`cursors.after`: newer events) the page is found by its position in the log (keyset), at the same
 * cost at any depth and without gaps or repeats while events are being added; without them, `offset` pages
 * as the spec says, with `pagination.total`.
 */
export class AuditQueryDto extends IntersectionType(PageQueryDto, AuditFilterDto) {
  @ApiPropertyOptional({ description: 'Events older than this cursor (`cursors.before` of the previous page)' })
  @IsOptional()
  @IsString()
  @Matches(CURSOR, { message: 'before must be a cursor returned by this route' })
  before?: string;

  @ApiPropertyOptional({ description: 'Events newer than this cursor (`cursors.after` of a page)' })
  @IsOptional()
  @IsString()
  @Matches(CURSOR, { message: 'after must be a cursor returned by this route' })
  after?: string;
}

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;

/** An export: every matching event, oldest first. */
export class AuditExportQueryDto extends AuditFilterDto {
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'ndjson', description: 'NDJSON (one event per line) or CSV' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS, { message: `format must be one of ${EXPORT_FORMATS.join(', ')}` })
  format?: (typeof EXPORT_FORMATS)[number];
}

/** The part of the chain to check; omitted = from the chain's start (or its retention restart) to its end. */
export class AuditVerifyQueryDto {
  @ApiPropertyOptional({ format: 'date-time', description: 'Check events from this time (the walk starts at the signed checkpoint before it)' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Check events before this time' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date-time' })
  to?: string;
}

export class AuditEventDto {
  @ApiProperty({ example: '1042' })
  id: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: Date;

  @ApiProperty({ example: 'secret.updated' })
  action: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  actorUserId: string | null;

  @ApiProperty({ type: String, nullable: true })
  actorEmail: string | null;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The token used, if any' })
  actorTokenId: string | null;

  @ApiProperty({ type: String, nullable: true })
  ip: string | null;

  @ApiProperty({ type: String, nullable: true })
  userAgent: string | null;

  @ApiProperty({ type: String, nullable: true })
  requestId: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Names, counts, versions: never a value' })
  metadata: Record<string, unknown>;
}

/** One line of an NDJSON export: an event with its position in the org's chain. */
export class AuditExportEventDto extends AuditEventDto {
  @ApiProperty({ example: '1042', description: 'The position in the org’s chain (1, 2, 3, …)' })
  seq: string;
}

export class AuditCursorsDto {
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `before` for the next page (older events); null: no older event' })
  before: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `after` for newer events (null: the page is empty and no cursor was given)' })
  after: string | null;
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEventDto], description: 'Newest first' })
  events: AuditEventDto[];

  @ApiPropertyOptional({ type: PaginationDto, description: 'Offset paging only (no `before`/`after`)' })
  pagination?: PaginationDto;

  @ApiProperty({ type: AuditCursorsDto })
  cursors: AuditCursorsDto;
}

export const VERIFY_PROBLEMS = ['changed', 'removed', 'reordered', 'checkpoint_mismatch', 'checkpoint_forged'] as const;
export type VerifyProblem = (typeof VERIFY_PROBLEMS)[number];

export class AuditVerifyFailureDto {
  @ApiProperty({ enum: VERIFY_PROBLEMS, description: 'What is wrong with the first bad position' })
  problem: VerifyProblem;

  @ApiProperty({ example: '1042', description: 'The position in the org’s chain (1, 2, 3, …) of the first row changed, removed or out of order' })
  seq: string;

  @ApiProperty({ type: String, nullable: true, example: '88123', description: 'The id of the row found at that position (null when it is missing)' })
  eventId: string | null;

  @ApiProperty({ example: 'The row at position 1042 does not match its hash' })
  message: string;
}

export class AuditVerifyResultDto {
  @ApiProperty({ description: 'True when every row checked matches its hash, follows its predecessor and agrees with the signed checkpoints' })
  valid: boolean;

  @ApiProperty({ example: '1', description: 'The first chain position checked' })
  fromSeq: string;

  @ApiProperty({ example: '5000', description: 'The last chain position checked' })
  toSeq: string;

  @ApiProperty({ description: 'Rows checked' })
  checked: number;

  @ApiProperty({ description: 'Signed checkpoints checked (signature and hash)' })
  checkpoints: number;

  @ApiProperty({ type: AuditVerifyFailureDto, nullable: true })
  firstProblem: AuditVerifyFailureDto | null;
}

/** `limit` omitted = 50 events. */
export class AccountActivityQueryDto extends PageQueryDto {}

/** An account's own events: an audit event without the fields that name the actor (the caller) or a request. */
export class AccountActivityEventDto extends OmitType(AuditEventDto, ['actorUserId', 'actorEmail', 'requestId'] as const) {}

export class AccountActivityPageDto {
  @ApiProperty({ type: [AccountActivityEventDto], description: 'Newest first' })
  events: AccountActivityEventDto[];

  @ApiProperty({ type: PaginationDto })
  pagination: PaginationDto;
}

export const RETENTION_SOURCES = ['org', 'plan', 'server', 'forever'] as const;

export class AuditRetentionDto {
  @ApiProperty({ type: Number, nullable: true, example: 365, description: 'Audit events older than this many days are deleted; null: kept forever' })
  days: number | null;

  @ApiProperty({
    enum: RETENTION_SOURCES,
    description: 'Where `days` comes from, in this order: org: the org’s own period; plan: its plan’s; server: AUDIT_RETENTION_DAYS; forever: none is set',
  })
  source: (typeof RETENTION_SOURCES)[number];

  @ApiProperty({ enum: PLANS, description: 'The org’s effective plan' })
  plan: PlanName;

  @ApiProperty({ type: Number, nullable: true, example: 30, description: 'The plan’s period (with the org’s admin override); null: the plan sets none' })
  planDays: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'AUDIT_RETENTION_DAYS; null: unset' })
  serverDays: number | null;
}

export class SetAuditRetentionDto {
  @ApiProperty({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: 36500,
    example: 365,
    description: 'Days to keep audit events; null: the plan’s period, else the server’s default',
  })
  @ValidateIf((_, value) => value !== null)
  @IsInt({ message: 'days must be a whole number of days, or null' })
  @Min(1)
  @Max(36_500)
  days: number | null;
}
