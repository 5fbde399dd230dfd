import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import type { components } from '@secr/sdk';
import { BaseCommand, envFlags, rawFlag, rawQuery } from '../base-command.js';
import { CliFailure, ExitCode, usageError } from '../lib/errors.js';
import { formatTime } from '../lib/table.js';

type Secret = components['schemas']['SecretDto'];
/** One key: that secret; several: the secrets, in the order asked for. */
export type GetResult = Secret | Secret[];

export default class Get extends BaseCommand<typeof Get, GetResult> {
  static override summary = 'Print one or more secrets';
  static override description =
    'Reads exactly the keys named (and the audit log records those keys only). With several keys, --plain prints one value per line, in the order given.';
  static override examples = [
    '<%= config.bin %> get DATABASE_URL',
    '<%= config.bin %> get DATABASE_URL --plain --env production',
    '<%= config.bin %> get DATABASE_URL REDIS_URL --json',
    'export STRIPE_KEY="$(<%= config.bin %> get STRIPE_KEY --plain)"',
  ];
  static override strict = false;
  static override args = { key: Args.string({ description: 'Secret key (more may follow)', required: true }) };
  static override flags = {
    ...envFlags,
    plain: Flags.boolean({ description: 'Print only the value' }),
    raw: rawFlag,
  };

  async run(): Promise<GetResult> {
    const keys = [...new Set([this.args.key, ...this.extraArgv])];
    const invalid = keys.find((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
    if (invalid !== undefined) throw usageError(`'${invalid}' is not a secret key (letters, digits and _, not starting with a digit)`);
    const target = await this.target();
    const api = await this.api();
    const { secrets } = this.unwrap(
      await api.GET('/v1/secrets/{orgSlug}/{project}/{env}', {
        params: { path: { orgSlug: target.org, project: target.project, env: target.env }, query: { keys: keys.join(','), ...rawQuery(this.flags.raw) } },
      }),
    );
    const missing = keys.filter((k) => !secrets.some((s) => s.key === k));
    if (missing.length) {
      const names = missing.map((k) => `'${k}'`).join(', ');
      throw new CliFailure(`Secret${missing.length > 1 ? 's' : ''} ${names} not found in ${target.project}/${target.env}`, 'not_found', ExitCode.NotFound);
    }
    const ordered = keys.map((k) => secrets.find((s) => s.key === k)!);
    for (const secret of ordered) {
      if (this.flags.plain) {
        this.log(secret.value);
      } else {
        this.log(`${secret.key}=${secret.value}`);
        this.log(`version ${secret.version}, updated ${formatTime(secret.updatedAt)}${secret.description ? ` — ${secret.description}` : ''}`);
      }
    }
    return ordered.length === 1 ? ordered[0] : ordered;
  }
}
