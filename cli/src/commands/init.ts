import * as Flags from '@oclif/core/flags';
import { canonicalEnvironment } from '@secr/sdk';
import { BaseCommand, type OrgSummary } from '../base-command.js';
import { writeLink, type ProjectLink } from '../lib/config.js';
import { CliFailure, ExitCode, usageError } from '../lib/errors.js';
import { ask, isInteractive } from '../lib/prompt.js';

export interface InitResult extends ProjectLink {
  /** The `.secr.json` written. */
  file: string;
}

export default class Init extends BaseCommand<typeof Init, InitResult> {
  static override summary = 'Link this directory to an org, project and default environment (.secr.json)';
  static override description = `Writes .secr.json in the current directory (names only, never a secret): every project command run here or below reads it, and --org, --project and --env override it. Missing flags are asked for on a terminal.`;
  static override examples = ['<%= config.bin %> init', '<%= config.bin %> init --org acme --project billing-api --env development'];
  static override flags = {
    org: Flags.string({ description: 'Org slug' }),
    project: Flags.string({ char: 'p', description: 'Project slug' }),
    env: Flags.string({ char: 'e', description: 'Default environment' }),
  };

  async run(): Promise<InitResult> {
    const org = await this.chooseOrg();
    const api = await this.api();
    const { projects } = this.unwrap(await api.GET('/v1/projects/{orgId}', { params: { path: { orgId: org.id } } }));
    const projectSlug =
      this.flags.project ??
      (await this.choose(
        'Project',
        projects.map((p) => p.slug),
      ));
    const project = projects.find((p) => p.slug === projectSlug);
    if (!project) throw new CliFailure(`Project '${projectSlug}' not found in ${org.slug}`, 'not_found', ExitCode.NotFound);

    const envs = project.environments.map((e) => e.slug);
    const wanted = this.flags.env ?? (isInteractive() ? await this.choose('Default environment', envs, 'development') : 'development');
    const environment = canonicalEnvironment(wanted);
    if (!envs.includes(environment)) {
      throw new CliFailure(`Environment '${wanted}' not found in ${org.slug}/${project.slug} (has: ${envs.join(', ')})`, 'not_found', ExitCode.NotFound);
    }

    const link: ProjectLink = { org: org.slug, project: project.slug, environment };
    const file = await writeLink(process.cwd(), link);
    this.log(`Linked ${process.cwd()} to ${org.slug}/${project.slug} (default environment: ${environment})`);
    return { ...link, file };
  }

  private async chooseOrg(): Promise<OrgSummary> {
    if (this.flags.org) return this.resolveOrg(this.flags.org);
    const { orgs } = await this.whoAmI();
    if (orgs.length === 1 && !isInteractive()) return orgs[0];
    const slug = await this.choose(
      'Org',
      orgs.map((o) => o.slug),
    );
    return this.resolveOrg(slug);
  }

  /** Picks from a numbered list on the terminal; the answer may be the number or the name. */
  private async choose(what: string, options: string[], fallback?: string): Promise<string> {
    if (!isInteractive()) throw usageError(`${what}: pass it as a flag (no terminal to ask on)`);
    if (options.length === 0) throw new CliFailure(`${what}: none to choose from; create one first`, 'not_found', ExitCode.NotFound);
    process.stderr.write(`${options.map((o, i) => `  ${i + 1}) ${o}`).join('\n')}\n`);
    const answer = (await ask(`${what}${fallback ? ` [${fallback}]` : ''}: `, what)).trim() || fallback || '';
    const index = Number(answer);
    return Number.isInteger(index) && index >= 1 && index <= options.length ? options[index - 1] : answer;
  }
}
