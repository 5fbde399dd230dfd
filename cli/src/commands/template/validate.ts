import type { components } from '@secr/sdk';
import { BaseCommand, envFlags } from '../../base-command.js';
import { ExitCode } from '../../lib/errors.js';

export type TemplateValidateResult = components['schemas']['TemplateValidationDto'] & { org: string; project: string; env: string };

export default class TemplateValidate extends BaseCommand<typeof TemplateValidate, TemplateValidateResult> {
  static override summary = 'Check an environment against the template; exits 1 when required keys are missing (for CI)';
  static override examples = [
    '<%= config.bin %> template validate --env production',
    `<%= config.bin %> template validate --env staging --json | jq -r '.missing[]'`,
  ];
  static override flags = { ...envFlags };

  async run(): Promise<TemplateValidateResult> {
    const target = await this.target();
    const api = await this.api();
    const result = this.unwrap(
      await api.GET('/v1/templates/{orgSlug}/{project}/validate/{env}', {
        params: { path: { orgSlug: target.org, project: target.project, env: target.env } },
      }),
    );
    const where = `${target.project}/${target.env}`;
    if (result.valid) this.log(`${where} matches the template`);
    else this.log(`${where} is missing ${result.missing.length} required ${result.missing.length === 1 ? 'key' : 'keys'}: ${result.missing.join(', ')}`);
    if (result.extra.length > 0) this.log(`Not in the template: ${result.extra.join(', ')}`);
    // A failed check is a result, not an error: it is printed (also with --json), then the exit code says so.
    if (!result.valid) process.exitCode = ExitCode.Failure;
    return { ...target, ...result };
  }
}
