import * as Args from '@oclif/core/args';
import { BaseCommand, yesFlag } from '../../base-command.js';

export interface OrgDeleteResult {
  org: string;
  deleted: boolean;
}

export default class OrgsDelete extends BaseCommand<typeof OrgsDelete, OrgDeleteResult> {
  static override summary = 'Delete an org with all its projects and secrets (owner only)';
  static override examples = ['<%= config.bin %> orgs delete acme', '<%= config.bin %> orgs delete acme --yes'];
  static override args = { org: Args.string({ description: 'Org slug or id', required: true }) };
  static override flags = { ...yesFlag };

  async run(): Promise<OrgDeleteResult> {
    const org = await this.resolveOrg(this.args.org);
    await this.confirmOrAbort(`Delete org ${org.slug} with all its projects and secrets?`, this.flags.yes);
    const api = await this.api();
    this.unwrap(await api.DELETE('/v1/orgs/{orgId}', { params: { path: { orgId: org.id } } }));
    this.log(`Deleted org ${org.slug}`);
    return { org: org.slug, deleted: true };
  }
}
