import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import type { components } from '@secr/sdk';
import { BaseCommand, orgFlags } from '../../base-command.js';
import { findMember, ROLES, type Role } from '../../lib/members.js';

export type MemberRoleResult = components['schemas']['MemberDto'] & { org: string };

export default class MembersRole extends BaseCommand<typeof MembersRole, MemberRoleResult> {
  static override summary = 'Change a member’s role (owner only)';
  static override examples = ['<%= config.bin %> members role grace@example.com --role admin'];
  static override args = { member: Args.string({ description: 'Member email or user id', required: true }) };
  static override flags = {
    ...orgFlags,
    role: Flags.string({ char: 'r', description: 'New role', options: [...ROLES], required: true }),
  };

  async run(): Promise<MemberRoleResult> {
    const org = await this.targetOrg();
    const api = await this.api();
    const member = await findMember(api, org, this.args.member);
    const updated = this.unwrap(
      await api.PATCH('/v1/members/{orgId}/{id}', { params: { path: { orgId: org.id, id: member.userId } }, body: { role: this.flags.role as Role } }),
    );
    this.log(`${updated.email} is now ${updated.role} in ${org.slug}`);
    return { org: org.slug, ...updated };
  }
}
