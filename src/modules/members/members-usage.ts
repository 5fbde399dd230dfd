import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { OrgsRepository } from '../orgs/orgs.repository.js';
import { InvitesRepository } from './invites.repository.js';

/** What membersPerOrg counts: members plus pending invitations (`exceptInvite`: the one being accepted, which becomes a member). */
@Injectable()
export class MembersUsage {
  constructor(
    private readonly orgs: OrgsRepository,
    private readonly invites: InvitesRepository,
  ) {}

  async count(em: EntityManager, orgId: string, exceptInvite: string | null = null): Promise<number> {
    return (await this.orgs.countMembers(em, orgId)) + (await this.invites.countPending(em, orgId, exceptInvite));
  }
}
