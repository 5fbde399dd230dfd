import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager, IsNull, MoreThan } from 'typeorm';
import type { Actor, OrgContext, RequestMeta } from '../auth/request-context.js';
import { ROLE_RANK, type Role } from '../../common/auth/permissions.js';
import { ForbiddenError } from '../../common/errors/domain-error.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { isUniqueViolation } from '../../database/pg-errors.js';
import { AuditService } from '../audit/audit.service.js';
import { sha256 } from '../../common/crypto/hash.js';
import { randomBase62 } from '../../common/crypto/random.js';
import { User } from '../auth/user.entity.js';
import { MailOutbox } from '../mail/mail-outbox.js';
import { invitationMail } from '../mail/messages.js';
import { revokeTokensOf } from '../auth/tokens.service.js';
import { Membership } from '../orgs/membership.entity.js';
import { OrgDto } from '../orgs/orgs.dto.js';
import { LastOwnerError } from '../orgs/orgs.errors.js';
import { Org } from '../orgs/org.entity.js';
import { PlansService } from '../plans/plans.service.js';
import { usage } from '../plans/usage.js';
import { Invite } from './invite.entity.js';
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
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async list(org: OrgContext): Promise<MemberListDto> {
    const members: Array<{ user_id: string; email: string; name: string; role: Role; created_at: Date }> = await this.db.query(
      `SELECT m.user_id, u.email, u.name, m.role, m.created_at
         FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.org_id = $1 ORDER BY m.created_at, u.email`,
      [org.id],
    );
    const invites = await this.db.getRepository(Invite).find({
      where: { orgId: org.id, acceptedAt: IsNull(), revokedAt: IsNull(), expiresAt: MoreThan(new Date()) },
      order: { createdAt: 'ASC' },
    });
    return {
      members: members.map((m) => ({ userId: m.user_id, email: m.email, name: m.name, role: m.role, joinedAt: m.created_at })),
      invites: invites.map(toInviteDto),
    };
  }

  async invite(actor: Actor, org: OrgContext, dto: InviteMemberDto, meta: RequestMeta): Promise<CreatedInviteDto> {
    assertMayGrant(org.role, dto.role);
    const token = randomBase62();
    const invite = await this.db.transaction(async (em) => {
      const alreadyMember = await em
        .createQueryBuilder(Membership, 'm')
        .innerJoin(User, 'u', 'u.id = m.userId')
        .where('m.orgId = :orgId AND u.email = :email', { orgId: org.id, email: dto.email })
        .getExists();
      if (alreadyMember) throw new AlreadyMemberError(dto.email);
      // Re-inviting an address replaces its open invitation.
      await em.update(Invite, { orgId: org.id, email: dto.email, acceptedAt: IsNull(), revokedAt: IsNull() }, { revokedAt: new Date() });
      await this.plans.assertCanAdd(em, org.id, { limit: 'membersPerOrg', scopeId: org.id, adding: 1, usage: usage.members(org.id) });
      const created = em.create(Invite, {
        orgId: org.id,
        email: dto.email,
        role: dto.role,
        tokenHash: sha256(token),
        invitedBy: actor.userId,
        expiresAt: new Date(Date.now() + INVITE_TTL_MS),
      });
      await saveInvite(em, created);
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

  private async mailInvitation(em: EntityManager, actor: Actor, invite: Invite, token: string): Promise<void> {
    const [names]: Array<{ org_name: string; inviter_name: string | null }> = await em.query(
      'SELECT o.name AS org_name, u.name AS inviter_name FROM orgs o LEFT JOIN users u ON u.id = $2 WHERE o.id = $1',
      [invite.orgId, actor.userId],
    );
    const details = { orgName: names.org_name, inviterName: names.inviter_name, role: invite.role, expiresAt: invite.expiresAt };
    await this.outbox.send(invitationMail(this.config.publicUrl, invite.email, details, token));
  }

  /** Withdraws a pending invitation; its link stops working. An admin cannot withdraw an owner invitation. */
  async revokeInvite(actor: Actor, org: OrgContext, inviteId: string, meta: RequestMeta): Promise<void> {
    await this.db.transaction(async (em) => {
      const invite = await em
        .createQueryBuilder(Invite, 'i')
        .setLock('pessimistic_write')
        .where('i.id = :id AND i.orgId = :orgId AND i.acceptedAt IS NULL AND i.revokedAt IS NULL AND i.expiresAt > now()', {
          id: inviteId,
          orgId: org.id,
        })
        .getOne();
      if (!invite) throw new InviteNotPendingError(inviteId);
      if (ROLE_RANK[invite.role] > ROLE_RANK[org.role]) {
        throw new OutrankedError(`Your role (${org.role}) cannot revoke an invitation for the role ${invite.role}`);
      }
      await em.update(Invite, { id: invite.id }, { revokedAt: new Date() });
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
      const invite = await em
        .createQueryBuilder(Invite, 'i')
        .setLock('pessimistic_write')
        .where('i.tokenHash = :hash AND i.acceptedAt IS NULL AND i.revokedAt IS NULL AND i.expiresAt > now()', {
          hash: sha256(token),
        })
        .getOne();
      if (!invite) throw new InviteNotFoundError();
      if (invite.email !== actor.email) throw new InviteEmailMismatchError();
      if (this.config.requireVerifiedEmail && !(await isVerified(em, actor.userId))) throw new EmailNotVerifiedError();
      if (actor.token?.orgId && actor.token.orgId !== invite.orgId) {
        throw new ForbiddenError('A token scoped to one organization cannot join another; accept with a session or an unscoped token');
      }
      if (await em.existsBy(Membership, { orgId: invite.orgId, userId: actor.userId })) {
        throw new AlreadyMemberError(actor.email);
      }
      // The invitation already counted as a member; an org that went over its limit since cannot grow.
      await this.plans.assertCanAdd(em, invite.orgId, {
        limit: 'membersPerOrg',
        scopeId: invite.orgId,
        adding: 1,
        usage: usage.members(invite.orgId, invite.id),
      });
      await em.insert(Membership, { orgId: invite.orgId, userId: actor.userId, role: invite.role });
      await em.update(Invite, { id: invite.id }, { acceptedAt: new Date(), acceptedBy: actor.userId });
      await this.audit.record(em, {
        action: 'member.joined',
        orgId: invite.orgId,
        actor,
        meta,
        metadata: { inviteId: invite.id, userId: actor.userId, role: invite.role },
      });
      const org = await em.findOneByOrFail(Org, { id: invite.orgId });
      return { id: org.id, slug: org.slug, name: org.name, role: invite.role, createdAt: org.createdAt };
    });
  }

  async changeRole(actor: Actor, org: OrgContext, userId: string, dto: UpdateMemberDto, meta: RequestMeta): Promise<MemberDto> {
    return this.db.transaction(async (em) => {
      const owners = await lockOwners(em, org.id);
      const member = await findMember(em, org.id, userId);
      if (member.role === 'owner' && dto.role !== 'owner' && owners.length <= 1) throw new LastOwnerError();
      const previous = member.role;
      await em.update(Membership, { orgId: org.id, userId }, { role: dto.role });
      await this.audit.record(em, {
        action: 'member.role_changed',
        orgId: org.id,
        actor,
        meta,
        metadata: { userId, from: previous, to: dto.role },
      });
      return { ...member, role: dto.role };
    });
  }

  async remove(actor: Actor, org: OrgContext, userId: string, meta: RequestMeta): Promise<void> {
    await this.db.transaction(async (em) => {
      const owners = await lockOwners(em, org.id);
      const member = await findMember(em, org.id, userId);
      if (ROLE_RANK[member.role] > ROLE_RANK[org.role]) {
        throw new OutrankedError(`Your role (${org.role}) cannot remove a member with role ${member.role}`);
      }
      if (member.role === 'owner' && owners.length <= 1) throw new LastOwnerError();
      await em.delete(Membership, { orgId: org.id, userId });
      // Tokens scoped to the org end with the membership: a later invitation must not revive them.
      const revokedTokens = await revokeTokensOf(em, this.audit, { userId, orgId: org.id }, { actor, meta, reason: 'member_removed' });
      await this.audit.record(em, {
        action: 'member.removed',
        orgId: org.id,
        actor,
        meta,
        metadata: { userId, email: member.email, role: member.role, revokedTokens },
      });
    });
  }
}

async function isVerified(em: EntityManager, userId: string): Promise<boolean> {
  const [row]: Array<{ verified: boolean }> = await em.query('SELECT email_verified_at IS NOT NULL AS verified FROM users WHERE id = $1', [userId]);
  return row?.verified === true;
}

/** Only an owner may hand out the owner role. */
function assertMayGrant(granterRole: Role, role: Role): void {
  if (ROLE_RANK[role] > ROLE_RANK[granterRole]) {
    throw new OutrankedError(`Your role (${granterRole}) cannot grant the role ${role}`);
  }
}

/** Locks the owner rows so that two concurrent demotions cannot both pass the last-owner check. */
async function lockOwners(em: EntityManager, orgId: string): Promise<string[]> {
  const rows: Array<{ user_id: string }> = await em.query(`SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'owner' FOR UPDATE`, [orgId]);
  return rows.map((r) => r.user_id);
}

async function findMember(em: EntityManager, orgId: string, userId: string): Promise<MemberDto> {
  const [row] = await em.query(
    `SELECT m.user_id, u.email, u.name, m.role, m.created_at
       FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND m.user_id = $2`,
    [orgId, userId],
  );
  if (!row) throw new MemberNotFoundError(userId);
  return { userId: row.user_id, email: row.email, name: row.name, role: row.role, joinedAt: row.created_at };
}

function toInviteDto(i: Invite): InviteDto {
  return { id: i.id, email: i.email, role: i.role, invitedBy: i.invitedBy, createdAt: i.createdAt, expiresAt: i.expiresAt };
}

/**
 * Inserts an invitation. Two invitations of one address racing each other both pass the "replace the open
 * one" step; the unique index on open invitations lets one in and refuses the other, answered 409 like
 * every other uniqueness race, not 500.
 */
async function saveInvite(em: EntityManager, invite: Invite): Promise<void> {
  try {
    await em.save(invite);
  } catch (error) {
    if (isUniqueViolation(error, 'org_invites_open_idx')) throw new InviteRaceError();
    throw error;
  }
}
