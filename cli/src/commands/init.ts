import path from 'node:path';
import * as Flags from '@oclif/core/flags';
import type { components } from '@secr/sdk';
import { BaseCommand, canonicalEnv, type OrgSummary } from '../base-command.js';
import { writeLink, type ProjectLink } from '../lib/config.js';
import { CliFailure, ExitCode, usageError } from '../lib/errors.js';
import { ask, isInteractive } from '../lib/prompt.js';
import { targetFromEnv } from '../lib/target.js';

type Project = components['schemas']['ProjectDto'];

export interface InitResult extends ProjectLink {
  /** The `.secr.json` written. */
  file: string;
  /** Whether init created the project. */
  createdProject: boolean;
}

export default class Init extends BaseCommand<typeof Init, InitResult> {
  static override summary = 'Link this directory to an org, project and default environment (.secr.json)';
  static override description = `Writes .secr.json in the current directory (names only, never a secret): every project command run here or below reads it, and --org, --project and --env override it.
On a terminal, missing flags are asked for: your only org is taken without asking, and an org without projects offers to create one (named after the directory). Without a terminal, --create creates the --project that does not exist yet.`;
  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --org acme --project billing-api --env development',
    '<%= config.bin %> init --project "My App" --create',
  ];
  static override flags = {
    org: Flags.string({ description: 'Org slug (default: $SECR_ORG, else your only org)' }),
    project: Flags.string({ char: 'p', description: 'Project slug (or name, with --create) (default: $SECR_PROJECT)' }),
    env: Flags.string({ char: 'e', description: 'Default environment (default: $SECR_ENV, else development)' }),
    create: Flags.boolean({ description: 'Create the project named by --project when it does not exist' }),
  };

  async run(): Promise<InitResult> {
    // SECR_ORG, SECR_PROJECT and SECR_ENV stand in for the flags here too.
    const fromEnv = targetFromEnv();
    this.flags = { ...this.flags, org: this.flags.org ?? fromEnv.org, project: this.flags.project ?? fromEnv.project, env: this.flags.env ?? fromEnv.env };
    const org = await this.chooseOrg();
    const api = await this.api();
    const { projects } = this.unwrap(await api.GET('/v1/projects/{orgId}', { params: { path: { orgId: org.id } } }));
    const { project, created } = await this.chooseProject(org, projects);

    const envs = project.environments.map((e) => e.slug);
    const wanted = this.flags.env ?? (isInteractive() ? await this.choose('Default environment', envs, 'development') : 'development');
    const environment = canonicalEnv(wanted);
    if (!envs.includes(environment)) {
      throw new CliFailure(`Environment '${wanted}' not found in ${org.slug}/${project.slug} (has: ${envs.join(', ')})`, 'not_found', ExitCode.NotFound);
    }

    const link: ProjectLink = { org: org.slug, project: project.slug, environment };
    const file = await writeLink(process.cwd(), link);
    this.log(`Linked ${process.cwd()} to ${org.slug}/${project.slug} (default environment: ${environment})`);
    return { ...link, file, createdProject: created };
  }

  private async chooseOrg(): Promise<OrgSummary> {
    if (this.flags.org) return this.resolveOrg(this.flags.org);
    const { orgs } = await this.whoAmI();
    if (orgs.length === 1) return orgs[0];
    if (orgs.length === 0) throw new CliFailure('You are in no org: create one with `secr orgs create <name>`', 'not_found', ExitCode.NotFound);
    const slug = await this.choose(
      'Org',
      orgs.map((o) => o.slug),
      orgs[0].slug,
    );
    return this.resolveOrg(slug);
  }

  private async chooseProject(org: OrgSummary, projects: Project[]): Promise<{ project: Project; created: boolean }> {
    const wanted = this.flags.project;
    if (wanted) {
      const found = projects.find((p) => p.slug === wanted);
      if (found) return { project: found, created: false };
      if (this.flags.create) return { project: await this.createProject(org, wanted), created: true };
      throw new CliFailure(`Project '${wanted}' not found in ${org.slug}; add --create to create it`, 'not_found', ExitCode.NotFound);
    }
    if (projects.length === 0) {
      if (!isInteractive()) throw usageError(`${org.slug} has no project yet: pass --project <name> --create`);
      const suggested = path.basename(process.cwd());
      const name = (await ask(`${org.slug} has no project yet. Create one named [${suggested}]: `, 'project name')).trim() || suggested;
      return { project: await this.createProject(org, name), created: true };
    }
    if (projects.length === 1 && !isInteractive()) return { project: projects[0], created: false };
    const slug = await this.choose(
      'Project',
      projects.map((p) => p.slug),
      projects.length === 1 ? projects[0].slug : undefined,
    );
    const project = projects.find((p) => p.slug === slug);
    if (!project) throw new CliFailure(`Project '${slug}' not found in ${org.slug}`, 'not_found', ExitCode.NotFound);
    return { project, created: false };
  }

  private async createProject(org: OrgSummary, name: string): Promise<Project> {
    const api = await this.api();
    const project = this.unwrap(await api.POST('/v1/projects/{orgId}', { params: { path: { orgId: org.id } }, body: { name } }));
    process.stderr.write(`Created project ${project.slug} in ${org.slug}\n`);
    return project;
  }

  /** Picks from a numbered list on the terminal; the answer may be the number or the name; Enter takes the default. */
  private async choose(what: string, options: string[], fallback?: string): Promise<string> {
    if (!isInteractive()) throw usageError(`${what}: pass it as a flag (no terminal to ask on)`);
    if (options.length === 0) throw new CliFailure(`${what}: none to choose from; create one first`, 'not_found', ExitCode.NotFound);
    process.stderr.write(`${options.map((o, i) => `  ${i + 1}) ${o}`).join('\n')}\n`);
    const answer = (await ask(`${what}${fallback ? ` [${fallback}]` : ''}: `, what)).trim() || fallback || '';
    const index = Number(answer);
    return Number.isInteger(index) && index >= 1 && index <= options.length ? options[index - 1] : answer;
  }
}
