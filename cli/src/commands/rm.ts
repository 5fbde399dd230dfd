import * as Args from '@oclif/core/args';
import { BaseCommand, envFlags, yesFlag } from '../base-command.js';

export interface RmResult {
  org: string;
  project: string;
  env: string;
  key: string;
  deleted: boolean;
}

export default class Rm extends BaseCommand<typeof Rm, RmResult> {
  static override summary = 'Delete a secret (its history is kept)';
  static override examples = ['<%= config.bin %> rm OLD_API_KEY', '<%= config.bin %> rm OLD_API_KEY --env staging --yes'];
  static override args = { key: Args.string({ description: 'Secret key', required: true }) };
  static override flags = { ...envFlags, ...yesFlag };

  async run(): Promise<RmResult> {
    const target = await this.target();
    const key = this.args.key;
    await this.confirmOrAbort(`Delete ${key} from ${target.project}/${target.env}?`, this.flags.yes);
    const api = await this.api();
    const result = this.unwrap(
      await api.DELETE('/v1/secrets/{orgSlug}/{project}/{env}/{key}', {
        params: { path: { orgSlug: target.org, project: target.project, env: target.env, key } },
      }),
    );
    this.log(`Deleted ${key} from ${target.project}/${target.env}`);
    return { ...target, key: result.key, deleted: result.deleted };
  }
}
