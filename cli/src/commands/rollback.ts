import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BaseCommand, envFlags } from '../base-command.js';

export interface RollbackResult {
  org: string;
  project: string;
  env: string;
  key: string;
  /** The new current version. */
  version: number;
  /** The version whose value it carries. */
  restoredFrom: number;
}

export default class Rollback extends BaseCommand<typeof Rollback, RollbackResult> {
  static override summary = 'Make an earlier version of a secret current again (as a new version)';
  static override examples = ['<%= config.bin %> rollback DATABASE_URL --version 3', '<%= config.bin %> rollback STRIPE_KEY --version 1 --env production'];
  static override args = { key: Args.string({ description: 'Secret key', required: true }) };
  static override flags = {
    ...envFlags,
    version: Flags.integer({ char: 'v', description: 'The version to restore (see `secr history KEY`)', required: true, min: 1 }),
  };

  async run(): Promise<RollbackResult> {
    const target = await this.target();
    const api = await this.api();
    const result = this.unwrap(
      await api.POST('/v1/secrets/{orgSlug}/{project}/{env}/rollback', {
        params: { path: { orgSlug: target.org, project: target.project, env: target.env } },
        body: { key: this.args.key, version: this.flags.version },
      }),
    );
    this.log(`Rolled ${result.key} back to the value of v${result.restoredFrom} in ${target.project}/${target.env} (now v${result.version})`);
    return { ...target, ...result };
  }
}
