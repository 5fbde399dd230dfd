import * as Flags from '@oclif/core/flags';
import { BaseCommand, envFlags, rawFlag, rawQuery } from '../base-command.js';
import { usageError } from '../lib/errors.js';
import { formatTime, oneLine, renderTable } from '../lib/table.js';

export interface LsResult {
  org: string;
  project: string;
  env: string;
  /** `value` only with `--show-values`. */
  secrets: Array<{ key: string; version: number; updatedAt: string; description: string | null; value?: string }>;
  /** Without `--show-values`: the environment's version (for `secr import --if-env-version`). */
  environmentVersion?: number;
}

export default class Ls extends BaseCommand<typeof Ls, LsResult> {
  static override summary = 'List the secrets of an environment (values hidden)';
  static override examples = ['<%= config.bin %> ls', '<%= config.bin %> ls --env production', '<%= config.bin %> ls --show-values --search DB_'];
  static override flags = {
    ...envFlags,
    'show-values': Flags.boolean({ description: 'Also print the values (reads them: an audited secret.read)' }),
    raw: rawFlag,
    search: Flags.string({ description: 'Only keys starting with this (case-sensitive)' }),
  };

  async run(): Promise<LsResult> {
    const target = await this.target();
    const api = await this.api();
    const params = { path: { orgSlug: target.org, project: target.project, env: target.env }, query: this.flags.search ? { search: this.flags.search } : {} };
    const showValues = this.flags['show-values'];
    // Without values, list metadata only: nothing secret is read or sent.
    let secrets: LsResult['secrets'];
    let environmentVersion: number | undefined;
    if (this.flags.raw && !showValues) throw usageError('--raw goes with --show-values');
    if (showValues) {
      const query = { ...params.query, ...rawQuery(this.flags.raw) };
      secrets = this.unwrap(await api.GET('/v1/secrets/{orgSlug}/{project}/{env}', { params: { ...params, query } })).secrets;
    } else ({ keys: secrets, environmentVersion } = this.unwrap(await api.GET('/v1/secrets/{orgSlug}/{project}/{env}/keys', { params })));

    this.log(`${target.project}/${target.env} — ${secrets.length} ${secrets.length === 1 ? 'secret' : 'secrets'}`);
    if (secrets.length > 0) {
      const headers = ['KEY', 'VERSION', 'UPDATED', ...(showValues ? ['VALUE'] : []), 'DESCRIPTION'];
      const rows = secrets.map((s) => [s.key, `v${s.version}`, formatTime(s.updatedAt), ...(showValues ? [oneLine(s.value ?? '')] : []), s.description ?? '']);
      this.log(renderTable(headers, rows));
    }
    return { ...target, secrets, ...(environmentVersion !== undefined ? { environmentVersion } : {}) };
  }
}
