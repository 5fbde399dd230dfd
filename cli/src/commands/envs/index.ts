import type { components } from '@secr/sdk';
import { BaseCommand, projectFlags } from '../../base-command.js';
import { formatTime, renderTable } from '../../lib/table.js';

export interface EnvsResult {
  org: string;
  project: string;
  environments: Array<components['schemas']['EnvironmentDto']>;
}

export default class Envs extends BaseCommand<typeof Envs, EnvsResult> {
  static override summary = 'List the project’s environments';
  static override examples = ['<%= config.bin %> envs', '<%= config.bin %> envs --project billing-api'];
  static override flags = { ...projectFlags };

  async run(): Promise<EnvsResult> {
    const { project } = await this.target();
    const org = await this.targetOrg();
    const api = await this.api();
    const found = this.unwrap(await api.GET('/v1/projects/{orgId}/{slug}', { params: { path: { orgId: org.id, slug: project } } }));
    this.log(
      renderTable(
        ['ENVIRONMENT', 'NAME', 'TIER', 'SECRETS', 'CREATED'],
        found.environments.map((e) => [e.slug, e.name, e.tier, String(e.secretCount), formatTime(e.createdAt)]),
      ),
    );
    return { org: org.slug, project: found.slug, environments: found.environments };
  }
}
