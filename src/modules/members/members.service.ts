import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor, OrgContext, RequestMeta } from '../auth/request-context.js';
import { Permission, ROLE_RANK, roleHasPermission, type Role } from '../../common/auth/permissions.js';
import { ForbiddenError } from '../../common/errors/domain-error.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { isUniqueViolation } from '../../database/pg-errors.js';
import { AuditService } from '../audit/audit.service.js';
import { sha256 } from '../../common/crypto/hash.js';
import { randomBase62 } from '../../common/crypto/random.js';
import { MailOutbox } from '../mail/mail-outbox.js';
import { invitationMail } from '../mail/messages.js';
import { OidcTrustsService } from '../auth/oidc/oidc-trusts.service.js';
import { revokeTokensOf } from '../auth/tokens.service.js';
import { UsersRepository } from '../auth/users.repository.js';
import { OrgDto } from '../orgs/orgs.dto.js';
import { LastOwnerError } from '../orgs/orgs.errors.js';
import { OrgsRepository } from '../orgs/orgs.repository.js';
import { PlansService } from '../plans/plans.service.js';
import { InvitesRepository, type InviteRow } from './invites.repository.js';
import { MembersUsage } from './members-usage.js';
import { CreatedInviteDto, InviteDto, InviteMemberDto, MemberDto, MemberListDto, UpdateMemberDto } from './members.dto.js';
import {
  AlreadyMemberError,
  EmailNotVerifiedError,
  InviteEmailMismatchError,
  InviteNotFoundError,
  InviteNotPendingError,
  InviteRaceError,
  MemberNotFoundError,
  OutrankedError,
} from './members.errors.js';

const INVITE_TTL_MS = 7 * 86_400_000;

@Injectable()
export class MembersService {
  constructor(
    private readonly db: DataSource,
    private readonly audit: AuditService,
    private readonly outbox: MailOutbox,
    private readonly plans: PlansService,
    private readonly orgs: OrgsRepository,
    private readonly invites: InvitesRepository,
    private readonly usage: MembersUsage,
    private readonly users: UsersRepository,
    private readonly oidcTrusts: OidcTrustsService,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async list(org: OrgContext): Promise<MemberListDto> {
    const memberships = await this.orgs.members(org.id);
    const profiles = await this.users.profiles(
      this.db.manager,
      memberships.map((m) => m.userId),
    );
    const members = memberships
      .filter((m) => profiles.has(m.userId))
      .map((m) => ({ userId: m.userId, ...profiles.get(m.userId)!, role: m.role, joinedAt: m.joinedAt }))
      .sort((a, b) => a.joinedAt.getTime() - b.joinedAt.getTime() || (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
    const invites = await this.invites.pending(org.id);
    return { members, invites: invites.map(toInviteDto) };
  }

  async invite(actor: Actor, org: OrgContext, dto: InviteMemberDto, meta: RequestMeta): Promise<CreatedInviteDto> {
    assertNotOutranked(org.role, dto.role, 'grant the role');
    const token = randomBase62();
    const invite = await this.db.transaction(async (em) => {
      const invitee = await this.users.idByEmail(em, dto.email);
      if (invitee && (await this.orgs.isMember(em, org.id, invitee))) throw new AlreadyMemberError(dto.email);
      // Re-inviting an address replaces its open invitation: withdrawn as revokeInvite withdraws one.
      const replaced = await this.withdrawOpenInvitation(em, org, dto.email);
      await this.plans.assertCanAdd(em, org.id, {
        limit: 'membersPerOrg',
        scopeId: org.id,
        adding: 1,
        usage: (locked) => this.usage.count(locked, org.id),
      });
      const created = await this.insertInvite(em, {
        orgId: org.id,
        email: dto.email,
        role: dto.role,
        tokenHash: sha256(token),
        invitedBy: actor.userId,
        expiresAt: new Date(Date.now() + INVITE_TTL_MS),
      });
      for (const old of replaced) {
        await this.audit.record(em, {
          action: 'member.invite_revoked',
          orgId: org.id,
          actor,
          meta,
          metadata: { inviteId: old.id, email: old.email, role: old.role, replacedBy: created.id },
        });
      }
      await this.audit.record(em, {
        action: 'member.invited',
        orgId: org.id,
        actor,
        meta,
        metadata: { inviteId: created.id, email: dto.email, role: dto.role },
      });
      // Mailed inside the transaction: an invitation whose mail was refused is not created (503).
      await this.mailInvitation(em, actor, created, token);
      return created;
    });
    // Where mail only goes to the log (development), the response carries the token as well.
    return this.outbox.delivers ? { invite: toInviteDto(invite) } : { invite: toInviteDto(invite), token };
  }

  /**
   * Revokes the address's open invitation before a new one replaces it. Refused (403) when that invitation
   * is live and its role outranks the caller's: an admin may not withdraw an owner invitation this way
   * either. An expired one offers nothing any more; it is revoked whatever its role.
   */
  private async withdrawOpenInvitation(em: EntityManager, org: OrgContext, email: string): Promise<InviteRow[]> {
    const open = await this.invites.lockOpenFor(em, org.id, email);
    for (const invite of open) if (!invite.expired) assertNotOutranked(org.role, invite.role, 'replace an open invitation for the role');
    for (const invite of open) await this.invites.revoke(em, invite.id);
    return open;
  }

  private async mailInvitation(em: EntityManager, actor: Actor, invite: InviteRow, token: string): Promise<void> {
    const org = (await this.orgs.get(em, invite.orgId))!;
    const details = { orgName: org.name, inviterName: await this.users.nameOf(em, actor.userId), role: invite.role, expiresAt: invite.expiresAt };
    await this.outbox.send(invitationMail(this.config.publicUrl, invite.email, details, token));
  }

  /** Withdraws a pending invitation; its link stops working. An admin cannot withdraw an owner invitation. */
  async revokeInvite(actor: Actor, org: OrgContext, inviteId: string, meta: RequestMeta): Promise<void> {
    await this.db.transaction(async (em) => {
      const invite = await this.invites.lockPending(em, { id: inviteId, orgId: org.id });
      if (!invite) throw new InviteNotPendingError(inviteId);
      assertNotOutranked(org.role, invite.role, 'revoke an invitation for the role');
      await this.invites.revoke(em, invite.id);
      await this.audit.record(em, {
        action: 'member.invite_revoked',
        orgId: org.id,
        actor,
        meta,
        metadata: { inviteId: invite.id, email: invite.email, role: invite.role },
      });
    });
  }

  async accept(actor: Actor, token: string, meta: RequestMeta): Promise<OrgDto> {
    return this.db.transaction(async (em) => {
      const invite = await this.invites.lockPending(em, { tokenHash: sha256(token) });
      if (!invite) throw new InviteNotFoundError();
      if (invite.email !== actor.email) throw new InviteEmailMismatchError();
      if (this.config.requireVerifiedEmail && !(await this.users.isVerified(em, actor.userId))) throw new EmailNotVerifiedError();
      if (actor.token?.orgId && actor.token.orgId !== invite.orgId) {
        throw new ForbiddenError('A token scoped to one organization cannot join another; accept with a session or an unscoped token');
      }
      if (await this.orgs.isMember(em, invite.orgId, actor.userId)) {
        throw new AlreadyMemberError(actor.email);
      }
      // The invitation already counted as a member; an org that went over its limit since cannot grow.
      await this.plans.assertCanAdd(em, invite.orgId, {
        limit: 'membersPerOrg',
        scopeId: invite.orgId,
        adding: 1,
        usage: (locked) => this.usage.count(locked, invite.orgId, invite.id),
      });
      await this.orgs.addMember(em, invite.orgId, actor.userId, invite.role);
      await this.invites.markAccepted(em, invite.id, actor.userId);
      await this.audit.record(em, {
        action: 'member.joined',
        orgId: invite.orgId,
        actor,
        meta,
        metadata: { inviteId: invite.id, userId: actor.userId, role: invite.role },
      });
      const org = (await this.orgs.get(em, invite.orgId))!;
      return { id: org.id, slug: org.slug, name: org.name, role: invite.role, createdAt: org.createdAt };
    });
  }

  async changeRole(actor: Actor, org: OrgContext, userId: string, dto: UpdateMemberDto, meta: RequestMeta): Promise<MemberDto> {
    return this.db.transaction(async (em) => {
      const owners = await this.orgs.lockOwners(em, org.id);
      const member = await this.findMember(em, org.id, userId);
      if (member.role === 'owner' && dto.role !== 'owner' && owners.length <= 1) throw new LastOwnerError();
      const previous = member.role;
      await this.orgs.setRole(em, org.id, userId, dto.role);
      // A role that may no longer manage trust relationships ends those the member created here: their
      // pipelines would go on minting tokens, and a later promotion must not revive them.
      const losesTrusts = roleHasPermission(previous, Permission.OidcTrustsManage) && !roleHasPermission(dto.role, Permission.OidcTrustsManage);
      const deletedOidcTrusts = losesTrusts ? await this.oidcTrusts.removeCreatedBy(em, { userId, orgId: org.id }, { actor, meta, reason: 'role_changed' }) : 0;
      await this.audit.record(em, {
        action: 'member.role_changed',
        orgId: org.id,
        actor,
        meta,
        metadata: { userId, from: previous, to: dto.role, ...(losesTrusts ? { deletedOidcTrusts } : {}) },
      });
      return { ...member, role: dto.role };
    });
  }

  async remove(actor: Actor, org: OrgContext, userId: string, meta: RequestMeta): Promise<void> {
    await this.db.transaction(async (em) => {
      const owners = await this.orgs.lockOwners(em, org.id);
      const member = await this.findMember(em, org.id, userId);
      assertNotOutranked(org.role, member.role, 'remove a member with role');
      if (member.role === 'owner' && owners.length <= 1) throw new LastOwnerError();
      await this.orgs.removeMember(em, org.id, userId);
      // What the member set up in the org ends with the membership: a later invitation must not revive it.
      // The trust relationships they created first (an exchange minting now finishes, and its token is
      // revoked with the relationship), then their tokens scoped to the org.
      const how = { actor, meta, reason: 'member_removed' };
      const deletedOidcTrusts = await this.oidcTrusts.removeCreatedBy(em, { userId, orgId: org.id }, how);
      const revokedTokens = await revokeTokensOf(em, this.audit, { userId, orgId: org.id }, how);
      await this.audit.record(em, {
        action: 'member.removed',
        orgId: org.id,
        actor,
        meta,
        metadata: { userId, email: member.email, role: member.role, revokedTokens, deletedOidcTrusts },
      });
    });
  }

  private async findMember(em: EntityManager, orgId: string, userId: string): Promise<MemberDto> {
    const membership = await this.orgs.membership(em, orgId, userId);
    const profile = membership && (await this.users.profiles(em, [userId])).get(userId);
    if (!membership || !profile) throw new MemberNotFoundError(userId);
    return { userId, email: profile.email, name: profile.name, role: membership.role, joinedAt: membership.joinedAt };
  }

  /**
   * Inserts an invitation. Two invitations of one address racing each other both pass the "replace the open
   * one" step; the unique index on open invitations lets one in and refuses the other, answered 409 like
   * every other uniqueness race, not 500.
   */
  private async insertInvite(em: EntityManager, invite: Parameters<InvitesRepository['insert']>[1]): Promise<InviteRow> {
    try {
      return await this.invites.insert(em, invite);
    } catch (error) {
      if (isUniqueViolation(error, 'org_invites_open_idx')) throw new InviteRaceError();
      throw error;
    }
  }
}

/** Only an owner may hand out the owner role. */
/** A caller may act on a role (grant it, revoke or replace an invitation for it, remove its member) only up to their own. */
function assertNotOutranked(callerRole: Role, role: Role, action: string): void {
  if (ROLE_RANK[role] > ROLE_RANK[callerRole]) {
    throw new OutrankedError(`Your role (${callerRole}) cannot ${action} ${role}`);
  }
}

function toInviteDto(i: InviteRow): InviteDto {
  return { id: i.id, email: i.email, role: i.role, invitedBy: i.invitedBy, createdAt: i.createdAt, expiresAt: i.expiresAt };
}
