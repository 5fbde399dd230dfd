import * as Args from '@oclif/core/args';
import { BaseCommand, projectFlags } from '../../base-command.js';

export interface TemplateRemoveResult {
  org: string;
  project: string;
  key: string;
  removed: boolean;
}

export default class TemplateRemove extends BaseCommand<typeof TemplateRemove, TemplateRemoveResult> {
  static override summary = 'Remove a key from the project’s template (secrets are not touched)';
  static override examples = ['<%= config.bin %> template remove LEGACY_TOKEN'];
  static override args = { key: Args.string({ description: 'Template key', required: true }) };
  static override flags = { ...projectFlags };

  async run(): Promise<TemplateRemoveResult> {
    const { org, project } = await this.target();
    const api = await this.api();
    const key = this.args.key;
    this.unwrap(await api.DELETE('/v1/templates/{orgSlug}/{project}/{key}', { params: { path: { orgSlug: org, project, key } } }));
    this.log(`Removed ${key} from the ${project} template`);
    return { org, project, key, removed: true };
  }
}
