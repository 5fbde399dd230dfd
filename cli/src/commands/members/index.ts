import type { components } from '@secr/sdk';
import { BaseCommand, orgFlags } from '../../base-command.js';
import { formatTime, renderTable } from '../../lib/table.js';

export type MembersResult = components['schemas']['MemberListDto'] & { org: string };

export default class Members extends BaseCommand<typeof Members, MembersResult> {
  static override summary = 'List the org’s members and pending invitations';
  static override examples = ['<%= config.bin %> members', '<%= config.bin %> members --org acme --json'];
  static override flags = { ...orgFlags };

  async run(): Promise<MembersResult> {
    const org = await this.targetOrg();
    const api = await this.api();
    const list = this.unwrap(await api.GET('/v1/members/{orgId}', { params: { path: { orgId: org.id } } }));
    this.log(
      renderTable(
        ['EMAIL', 'NAME', 'ROLE', 'JOINED'],
        list.members.map((m) => [m.email, m.name, m.role, formatTime(m.joinedAt)]),
      ),
    );
    if (list.invites.length > 0) {
      this.log('');
      this.log('Pending invitations:');
      this.log(
        renderTable(
          ['EMAIL', 'ROLE', 'EXPIRES'],
          list.invites.map((i) => [i.email, i.role, formatTime(i.expiresAt)]),
        ),
      );
    }
    return { org: org.slug, ...list };
  }
}
