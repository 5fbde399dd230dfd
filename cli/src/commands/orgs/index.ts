import { BaseCommand, type OrgSummary } from '../../base-command.js';
import { renderTable } from '../../lib/table.js';

export interface OrgsResult {
  orgs: OrgSummary[];
}

export default class Orgs extends BaseCommand<typeof Orgs, OrgsResult> {
  static override summary = 'List your orgs and your role in each';
  static override examples = ['<%= config.bin %> orgs', '<%= config.bin %> orgs --json'];

  async run(): Promise<OrgsResult> {
    const { orgs } = await this.whoAmI();
    this.log(
      renderTable(
        ['ORG', 'NAME', 'ROLE', 'ID'],
        orgs.map((o) => [o.slug, o.name, o.role, o.id]),
      ),
    );
    return { orgs };
  }
}
