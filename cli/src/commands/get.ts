import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import type { components } from '@secr/sdk';
import { BaseCommand, envFlags } from '../base-command.js';
import { CliFailure, ExitCode } from '../lib/errors.js';
import { formatTime } from '../lib/table.js';

export type GetResult = components['schemas']['SecretDto'];

export default class Get extends BaseCommand<typeof Get, GetResult> {
  static override summary = 'Print one secret';
  static override examples = [
    '<%= config.bin %> get DATABASE_URL',
    '<%= config.bin %> get DATABASE_URL --plain --env production',
    'export STRIPE_KEY="$(<%= config.bin %> get STRIPE_KEY --plain)"',
  ];
  static override args = { key: Args.string({ description: 'Secret key', required: true }) };
  static override flags = {
    ...envFlags,
    plain: Flags.boolean({ description: 'Print only the value' }),
  };

  async run(): Promise<GetResult> {
    const target = await this.target();
    const api = await this.api();
    const key = this.args.key;
    // There is no single-secret read route: pull with the key as prefix and keep the exact match.
    const { secrets } = this.unwrap(
      await api.GET('/v1/secrets/{orgSlug}/{project}/{env}', {
        params: { path: { orgSlug: target.org, project: target.project, env: target.env }, query: { search: key } },
      }),
    );
    const secret = secrets.find((s) => s.key === key);
    if (!secret) throw new CliFailure(`Secret '${key}' not found in ${target.project}/${target.env}`, 'not_found', ExitCode.NotFound);
    if (this.flags.plain) {
      this.log(secret.value);
    } else {
      this.log(`${secret.key}=${secret.value}`);
      this.log(`version ${secret.version}, updated ${formatTime(secret.updatedAt)}${secret.description ? ` — ${secret.description}` : ''}`);
    }
    return secret;
  }
}
