import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import type { components } from '@secr/sdk';
import { BaseCommand, orgFlags } from '../../base-command.js';

export type ProjectCreateResult = components['schemas']['ProjectDto'];

export default class ProjectsCreate extends BaseCommand<typeof ProjectsCreate, ProjectCreateResult> {
  static override summary = 'Create a project (with development, staging and production)';
  static override examples = [
    '<%= config.bin %> projects create "Billing API"',
    '<%= config.bin %> projects create "Billing API" --slug billing-api --org acme',
  ];
  static override args = { name: Args.string({ description: 'Project name', required: true }) };
  static override flags = {
    ...orgFlags,
    slug: Flags.string({ description: 'Slug (default: derived from the name)' }),
    description: Flags.string({ char: 'd', description: 'What the project is' }),
  };

  async run(): Promise<ProjectCreateResult> {
    const org = await this.targetOrg();
    const api = await this.api();
    const body = {
      name: this.args.name,
      ...(this.flags.slug ? { slug: this.flags.slug } : {}),
      ...(this.flags.description ? { description: this.flags.description } : {}),
    };
    const project = this.unwrap(await api.POST('/v1/projects/{orgId}', { params: { path: { orgId: org.id } }, body }));
    this.log(`Created project ${project.slug} in ${org.slug} (${project.environments.map((e) => e.slug).join(', ')})`);
    return project;
  }
}
