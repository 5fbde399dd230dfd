import type { components } from '@secr/sdk';
import { BaseCommand, projectFlags } from '../../base-command.js';
import { renderTable } from '../../lib/table.js';

export interface TemplateListResult {
  org: string;
  project: string;
  templates: Array<components['schemas']['TemplateDto']>;
}

export default class TemplateList extends BaseCommand<typeof TemplateList, TemplateListResult> {
  static override summary = 'List the keys the project’s template expects in every environment';
  static override examples = ['<%= config.bin %> template list', '<%= config.bin %> template list --project billing-api --json'];
  static override flags = { ...projectFlags };

  async run(): Promise<TemplateListResult> {
    const { org, project } = await this.target();
    const api = await this.api();
    const { templates } = this.unwrap(await api.GET('/v1/templates/{orgSlug}/{project}', { params: { path: { orgSlug: org, project } } }));
    this.log(`${project} template — ${templates.length} ${templates.length === 1 ? 'key' : 'keys'}`);
    if (templates.length > 0) {
      this.log(
        renderTable(
          ['KEY', 'REQUIRED', 'DESCRIPTION'],
          templates.map((t) => [t.key, t.required ? 'yes' : 'optional', t.description ?? '']),
        ),
      );
    }
    return { org, project, templates };
  }
}
