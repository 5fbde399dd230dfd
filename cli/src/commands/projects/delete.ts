import * as Args from '@oclif/core/args';
import { BaseCommand, orgFlags, yesFlag } from '../../base-command.js';

export interface ProjectDeleteResult {
  org: string;
  project: string;
  deleted: boolean;
}

export default class ProjectsDelete extends BaseCommand<typeof ProjectsDelete, ProjectDeleteResult> {
  static override summary = 'Delete a project with all its environments and secrets (owner only)';
  static override examples = ['<%= config.bin %> projects delete billing-api', '<%= config.bin %> projects delete billing-api --org acme --yes'];
  static override args = { project: Args.string({ description: 'Project slug', required: true }) };
  static override flags = { ...orgFlags, ...yesFlag };

  async run(): Promise<ProjectDeleteResult> {
    const org = await this.targetOrg();
    const project = this.args.project;
    await this.confirmOrAbort(`Delete project ${org.slug}/${project} and all its secrets?`, this.flags.yes);
    const api = await this.api();
    this.unwrap(await api.DELETE('/v1/projects/{orgId}/{slug}', { params: { path: { orgId: org.id, slug: project } } }));
    this.log(`Deleted project ${org.slug}/${project}`);
    return { org: org.slug, project, deleted: true };
  }
}
