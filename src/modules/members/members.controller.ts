import { Body, Controller, Delete, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Actor, OrgContext, RequestMeta } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { CurrentActor, CurrentOrg, ReqMeta } from '../auth/request-context.decorators.js';
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
  listMembers(@CurrentOrg() org: OrgContext): Promise<MemberListDto> {
    return this.members.list(org);
  }

  @Post(':orgId/invite')
  @Route({ permission: Permission.MembersInvite, summary: 'Invite someone by email (owner/admin)', status: 201, response: CreatedInviteDto })
  inviteMember(
    @CurrentActor() actor: Actor,
    @CurrentOrg() org: OrgContext,
    @Body() dto: InviteMemberDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<CreatedInviteDto> {
    return this.members.invite(actor, org, dto, meta);
  }

  @Post('invite/:token/accept')
  @Route({ permission: Permission.AccountManage, summary: 'Accept an invitation sent to your address', response: OrgDto })
  acceptInvite(@CurrentActor() actor: Actor, @Param('token') token: string, @ReqMeta() meta: RequestMeta): Promise<OrgDto> {
    return this.members.accept(actor, token, meta);
  }

  @Delete(':orgId/invites/:inviteId')
  @Route({ permission: Permission.MembersInvite, summary: 'Revoke a pending invitation (owner/admin)', status: 204 })
  revokeInvite(
    @CurrentActor() actor: Actor,
    @CurrentOrg() org: OrgContext,
    @Param('inviteId', ParseUuidPipe) inviteId: string,
    @ReqMeta() meta: RequestMeta,
  ): Promise<void> {
    return this.members.revokeInvite(actor, org, inviteId, meta);
  }

  @Patch(':orgId/:id')
  @Route({ permission: Permission.MembersChangeRole, summary: 'Change a member’s role (owner only)', response: MemberDto })
  updateMemberRole(
    @CurrentActor() actor: Actor,
    @CurrentOrg() org: OrgContext,
    @Param('id', ParseUuidPipe) userId: string,
    @Body() dto: UpdateMemberDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<MemberDto> {
    return this.members.changeRole(actor, org, userId, dto, meta);
  }

  @Delete(':orgId/:id')
  @Route({ permission: Permission.MembersRemove, summary: 'Remove a member (owner/admin)', status: 204 })
  removeMember(
    @CurrentActor() actor: Actor,
    @CurrentOrg() org: OrgContext,
    @Param('id', ParseUuidPipe) userId: string,
    @ReqMeta() meta: RequestMeta,
  ): Promise<void> {
    return this.members.remove(actor, org, userId, meta);
  }
}
