import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import type { components } from '@secr/sdk';
import { BaseCommand } from '../../base-command.js';

export type OrgCreateResult = components['schemas']['OrgDto'];

export default class OrgsCreate extends BaseCommand<typeof OrgsCreate, OrgCreateResult> {
  static override summary = 'Create an org (you become its owner)';
  static override examples = ['<%= config.bin %> orgs create "Acme Inc."', '<%= config.bin %> orgs create "Acme Inc." --slug acme'];
  static override args = { name: Args.string({ description: 'Org name', required: true }) };
  static override flags = { slug: Flags.string({ description: 'Slug (default: derived from the name)' }) };

  async run(): Promise<OrgCreateResult> {
    const api = await this.api();
    const org = this.unwrap(await api.POST('/v1/orgs', { body: { name: this.args.name, ...(this.flags.slug ? { slug: this.flags.slug } : {}) } }));
    this.log(`Created org ${org.slug} (${org.name}); you are its ${org.role}`);
    return org;
  }
}
