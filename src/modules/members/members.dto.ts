import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, MaxLength } from 'class-validator';
import { ROLES, type Role } from '../../common/auth/permissions.js';

export class InviteMemberDto {
  @ApiProperty({ example: 'grace@example.com', maxLength: 254 })
  @Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(254)
  email: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role: Role;
}

export class UpdateMemberDto {
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role: Role;
}

export class MemberDto {
  @ApiProperty({ format: 'uuid', description: 'The member’s user id (the :id of member routes)' })
  userId: string;

  @ApiProperty()
  email: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ enum: ROLES })
  role: Role;

  @ApiProperty({ format: 'date-time' })
  joinedAt: Date;
}

export class InviteDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  email: string;

  @ApiProperty({ enum: ROLES })
  role: Role;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  invitedBy: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: Date;

  @ApiProperty({ format: 'date-time' })
  expiresAt: Date;
}

export class MemberListDto {
  @ApiProperty({ type: [MemberDto] })
  members: MemberDto[];

  @ApiProperty({ type: [InviteDto], description: 'Invitations not yet accepted, revoked or expired' })
  invites: InviteDto[];
}

export class CreatedInviteDto {
  @ApiProperty({ type: InviteDto })
  invite: InviteDto;

  @ApiPropertyOptional({
    description:
      'The invitation token, for POST /v1/members/invite/{token}/accept: only when the server has no SMTP ' +
      'server configured (development), where mail is written to the log. Otherwise it is only in the mail.',
  })
  token?: string;
}
