import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import type { components } from '@secr/sdk';
import { BaseCommand, envFlags } from '../base-command.js';
import { formatTime, oneLine, renderTable } from '../lib/table.js';

type Version = components['schemas']['SecretVersionDto'];

export interface HistoryResult {
  key: string;
  deleted: boolean;
  /** Newest first; `value` only with `--show-values`. */
  versions: Array<Omit<Version, 'value'> & { value?: string }>;
}

export default class History extends BaseCommand<typeof History, HistoryResult> {
  static override summary = 'Show the versions of a secret: who wrote each, when and how';
  static override examples = ['<%= config.bin %> history DATABASE_URL', '<%= config.bin %> history DATABASE_URL --env production --show-values'];
  static override args = { key: Args.string({ description: 'Secret key', required: true }) };
  static override flags = {
    ...envFlags,
    'show-values': Flags.boolean({ description: 'Also print each version’s value' }),
  };

  async run(): Promise<HistoryResult> {
    const target = await this.target();
    const api = await this.api();
    const history = this.unwrap(
      await api.GET('/v1/secrets/{orgSlug}/{project}/{env}/versions/{key}', {
        params: { path: { orgSlug: target.org, project: target.project, env: target.env, key: this.args.key } },
      }),
    );
    const showValues = this.flags['show-values'];
    const versions = history.versions.map(({ value, ...rest }) => (showValues ? { ...rest, value } : rest));

    this.log(
      `${history.key} in ${target.project}/${target.env} — ${versions.length} ${versions.length === 1 ? 'version' : 'versions'}${history.deleted ? ' (deleted)' : ''}`,
    );
    const headers = ['VERSION', 'CREATED', 'BY', 'SOURCE', ...(showValues ? ['VALUE'] : []), 'DESCRIPTION'];
    const rows = history.versions.map((v) => [
      `v${v.version}`,
      formatTime(v.createdAt),
      v.createdBy?.email ?? '-',
      v.source,
      ...(showValues ? [oneLine(v.value)] : []),
      v.description ?? '',
    ]);
    this.log(renderTable(headers, rows));
    return { key: history.key, deleted: history.deleted, versions };
  }
}
