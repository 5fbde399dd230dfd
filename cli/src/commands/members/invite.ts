import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import type { components } from '@secr/sdk';
import { BaseCommand, orgFlags } from '../../base-command.js';
import { ROLES, type Role } from '../../lib/members.js';

export type MemberInviteResult = components['schemas']['CreatedInviteDto'] & { org: string };

export default class MembersInvite extends BaseCommand<typeof MembersInvite, MemberInviteResult> {
  static override summary = 'Invite someone to the org by email (owner or admin)';
  static override description = 'Prints the invitation token: the invitee accepts with `secr members accept TOKEN`.';
  static override examples = ['<%= config.bin %> members invite grace@example.com --role developer'];
  static override args = { email: Args.string({ description: 'Email to invite', required: true }) };
  static override flags = {
    ...orgFlags,
    role: Flags.string({ char: 'r', description: 'Role in the org', options: [...ROLES], default: 'developer' }),
  };

  async run(): Promise<MemberInviteResult> {
    const org = await this.targetOrg();
    const api = await this.api();
    const created = this.unwrap(
      await api.POST('/v1/members/{orgId}/invite', { params: { path: { orgId: org.id } }, body: { email: this.args.email, role: this.flags.role as Role } }),
    );
    this.log(`Invited ${created.invite.email} to ${org.slug} as ${created.invite.role}`);
    this.log(`They accept with: secr members accept ${created.token}`);
    return { org: org.slug, ...created };
  }
}
