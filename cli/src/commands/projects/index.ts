import type { components } from '@secr/sdk';
import { BaseCommand, orgFlags } from '../../base-command.js';
import { formatTime, renderTable } from '../../lib/table.js';

export interface ProjectsResult {
  org: string;
  projects: Array<components['schemas']['ProjectDto']>;
}

export default class Projects extends BaseCommand<typeof Projects, ProjectsResult> {
  static override summary = 'List the org’s projects';
  static override examples = ['<%= config.bin %> projects', '<%= config.bin %> projects --org acme --json'];
  static override flags = { ...orgFlags };

  async run(): Promise<ProjectsResult> {
    const org = await this.targetOrg();
    const api = await this.api();
    const { projects } = this.unwrap(await api.GET('/v1/projects/{orgId}', { params: { path: { orgId: org.id } } }));
    this.log(`${org.slug} — ${projects.length} ${projects.length === 1 ? 'project' : 'projects'}`);
    if (projects.length > 0) {
      this.log(
        renderTable(
          ['PROJECT', 'NAME', 'ENVIRONMENTS', 'CREATED'],
          projects.map((p) => [p.slug, p.name, p.environments.map((e) => e.slug).join(', '), formatTime(p.createdAt)]),
        ),
      );
    }
    return { org: org.slug, projects };
  }
}
