import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import type { components } from '@secr/sdk';
import { BaseCommand, projectFlags } from '../../base-command.js';

export type TemplateAddResult = components['schemas']['TemplateDto'] & { org: string; project: string };

export default class TemplateAdd extends BaseCommand<typeof TemplateAdd, TemplateAddResult> {
  static override summary = 'Add a key to the project’s template';
  static override examples = [
    `<%= config.bin %> template add DATABASE_URL --description 'Primary database connection string'`,
    `<%= config.bin %> template add SENTRY_DSN --description 'Error reporting' --optional`,
  ];
  static override args = { key: Args.string({ description: 'Secret key every environment should have', required: true }) };
  static override flags = {
    ...projectFlags,
    description: Flags.string({ char: 'd', description: 'What the key is for' }),
    optional: Flags.boolean({ description: 'Not required: never reported missing' }),
  };

  async run(): Promise<TemplateAddResult> {
    const { org, project } = await this.target();
    const api = await this.api();
    const body = {
      key: this.args.key,
      required: !this.flags.optional,
      ...(this.flags.description !== undefined ? { description: this.flags.description } : {}),
    };
    const template = this.unwrap(await api.POST('/v1/templates/{orgSlug}/{project}', { params: { path: { orgSlug: org, project } }, body }));
    this.log(`Added ${template.key} to the ${project} template${template.required ? '' : ' (optional)'}`);
    return { org, project, ...template };
  }
}
