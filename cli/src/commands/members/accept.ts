import * as Args from '@oclif/core/args';
import type { components } from '@secr/sdk';
import { BaseCommand } from '../../base-command.js';

export type MemberAcceptResult = components['schemas']['OrgDto'];

export default class MembersAccept extends BaseCommand<typeof MembersAccept, MemberAcceptResult> {
  static override summary = 'Accept an invitation sent to your email';
  static override examples = ['<%= config.bin %> members accept 7hQ…'];
  static override args = { token: Args.string({ description: 'Invitation token', required: true }) };

  async run(): Promise<MemberAcceptResult> {
    const api = await this.api();
    const org = this.unwrap(await api.POST('/v1/members/invite/{token}/accept', { params: { path: { token: this.args.token } } }));
    this.log(`Joined ${org.slug} (${org.name}) as ${org.role}`);
    return org;
  }
}
