import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { PageQueryDto, PaginationDto } from '../../common/pagination/pagination.dto.js';

/** `limit` omitted = 50 events. */
export class AuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'secret.read', description: 'Only events with this action' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]+\.[a-z_]+$/, { message: 'action must look like secret.read' })
  action?: string;
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

export class AuditPageDto {
  @ApiProperty({ type: [AuditEventDto], description: 'Newest first' })
  events: AuditEventDto[];

  @ApiProperty({ type: PaginationDto })
  pagination: PaginationDto;
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
