import * as Args from '@oclif/core/args';
import { BaseCommand, orgFlags, yesFlag } from '../../base-command.js';
import { findMember } from '../../lib/members.js';

export interface MemberRemoveResult {
  org: string;
  email: string;
  userId: string;
  removed: boolean;
}

export default class MembersRemove extends BaseCommand<typeof MembersRemove, MemberRemoveResult> {
  static override summary = 'Remove a member from the org (owner or admin)';
  static override examples = ['<%= config.bin %> members remove grace@example.com', '<%= config.bin %> members remove grace@example.com --yes'];
  static override args = { member: Args.string({ description: 'Member email or user id', required: true }) };
  static override flags = { ...orgFlags, ...yesFlag };

  async run(): Promise<MemberRemoveResult> {
    const org = await this.targetOrg();
    const api = await this.api();
    const member = await findMember(api, org, this.args.member);
    await this.confirmOrAbort(`Remove ${member.email} from ${org.slug}?`, this.flags.yes);
    this.unwrap(await api.DELETE('/v1/members/{orgId}/{id}', { params: { path: { orgId: org.id, id: member.userId } } }));
    this.log(`Removed ${member.email} from ${org.slug}`);
    return { org: org.slug, email: member.email, userId: member.userId, removed: true };
  }
}
