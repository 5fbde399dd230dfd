import { Body, Controller, Delete, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { OrgRequestContext, RequestContext } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { Ctx } from '../auth/request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { ParseUuidPipe } from '../../common/validation/parse-uuid.pipe.js';
import { OrgDto } from '../orgs/orgs.dto.js';
import { CreatedInviteDto, InviteMemberDto, MemberDto, MemberListDto, UpdateMemberDto } from './members.dto.js';
import { MembersService } from './members.service.js';

@ApiTags('Members')
@Controller('members')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Get(':orgId')
  @Route({ permission: Permission.MembersRead, summary: 'List members and pending invitations', response: MemberListDto })
  listMembers(@Ctx() { org }: OrgRequestContext): Promise<MemberListDto> {
    return this.members.list(org);
  }

  @Post(':orgId/invite')
  @Route({ permission: Permission.MembersInvite, summary: 'Invite someone by email (owner/admin)', status: 201, response: CreatedInviteDto })
  inviteMember(@Ctx() { actor, org, meta }: OrgRequestContext, @Body() dto: InviteMemberDto): Promise<CreatedInviteDto> {
    return this.members.invite(actor, org, dto, meta);
  }

  @Post('invite/:token/accept')
  @Route({ permission: Permission.AccountManage, summary: 'Accept an invitation sent to your address', response: OrgDto })
  acceptInvite(@Ctx() { actor, meta }: RequestContext, @Param('token') token: string): Promise<OrgDto> {
    return this.members.accept(actor, token, meta);
  }

  @Delete(':orgId/invites/:inviteId')
  @Route({ permission: Permission.MembersInvite, summary: 'Revoke a pending invitation (owner/admin)', status: 204 })
  revokeInvite(@Ctx() { actor, org, meta }: OrgRequestContext, @Param('inviteId', ParseUuidPipe) inviteId: string): Promise<void> {
    return this.members.revokeInvite(actor, org, inviteId, meta);
  }

  @Patch(':orgId/:id')
  @Route({ permission: Permission.MembersChangeRole, summary: 'Change a member’s role (owner only)', response: MemberDto })
  updateMemberRole(
    @Ctx() { actor, org, meta }: OrgRequestContext,
    @Param('id', ParseUuidPipe) userId: string,
    @Body() dto: UpdateMemberDto,
  ): Promise<MemberDto> {
    return this.members.changeRole(actor, org, userId, dto, meta);
  }

  @Delete(':orgId/:id')
  @Route({ permission: Permission.MembersRemove, summary: 'Remove a member (owner/admin)', status: 204 })
  removeMember(@Ctx() { actor, org, meta }: OrgRequestContext, @Param('id', ParseUuidPipe) userId: string): Promise<void> {
    return this.members.remove(actor, org, userId, meta);
  }
}
