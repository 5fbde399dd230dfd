import * as Flags from '@oclif/core/flags';
import type { components } from '@secr/sdk';
import { BaseCommand, canonicalEnv, projectFlags } from '../base-command.js';
import { ExitCode, usageError } from '../lib/errors.js';
import { oneLine, renderTable } from '../lib/table.js';

export type DiffResult = components['schemas']['EnvironmentDiffDto'] & { org: string; project: string };

const MARK = { only_in_source: '+', only_in_target: '-', changed: '~', identical: '=' } as const;
const WORDS = { only_in_source: 'only in source', only_in_target: 'only in target', changed: 'changed', identical: 'identical' } as const;

export default class Diff extends BaseCommand<typeof Diff, DiffResult> {
  static override summary = 'Compare two environments; exits 1 when they differ (for CI)';
  static override description = `Lists each key set in either environment: only in the source (+), only in the target (-), changed (~) or identical (=). Values are compared on the server and not shown unless --show-values (needs read access to both environments, and is audited as a read of both).`;
  static override examples = [
    '<%= config.bin %> diff --from staging --to production',
    '<%= config.bin %> diff --from staging --to production --keys DATABASE_URL,API_KEY',
    `<%= config.bin %> diff --from staging --to production --json | jq -r '.keys[] | select(.status != "identical") | .key'`,
  ];
  static override flags = {
    ...projectFlags,
    from: Flags.string({ description: 'Source environment', required: true }),
    to: Flags.string({ description: 'Target environment', required: true }),
    keys: Flags.string({ description: 'Comma-separated keys to compare (default: all)' }),
    'show-values': Flags.boolean({ description: 'Also print both values of each key (an audited read of both environments)' }),
  };

  async run(): Promise<DiffResult> {
    const { org, project } = await this.target();
    const from = canonicalEnv(this.flags.from);
    const to = canonicalEnv(this.flags.to);
    const keys = this.flags.keys
      ?.split(',')
      .map((k) => k.trim())
      .filter(Boolean);
    if (keys && keys.length === 0) throw usageError('--keys lists no key');
    const showValues = this.flags['show-values'];
    const api = await this.api();
    const result = this.unwrap(
      await api.GET('/v1/secrets/{orgSlug}/{project}/diff', {
        params: {
          path: { orgSlug: org, project },
          query: { from, to, ...(keys ? { keys: keys.join(',') } : {}), ...(showValues ? { showValues: 'true' } : {}) },
        },
      }),
    );

    this.log(`${project}: ${result.from} → ${result.to}`);
    if (result.keys.length === 0) this.log('  (no secrets in either environment)');
    else {
      const rows = result.keys.map((k) => [
        `${MARK[k.status]} ${k.key}`,
        WORDS[k.status],
        ...(showValues ? [oneLine(k.sourceValue ?? ''), oneLine(k.targetValue ?? '')] : []),
      ]);
      this.log(renderTable(['KEY', 'STATUS', ...(showValues ? [result.from.toUpperCase(), result.to.toUpperCase()] : [])], rows));
    }
    const { onlyInSource, onlyInTarget, changed, identical } = result.counts;
    this.log(
      result.differ
        ? `Differ: ${onlyInSource} only in ${result.from}, ${onlyInTarget} only in ${result.to}, ${changed} changed, ${identical} identical`
        : `Identical: ${identical} ${identical === 1 ? 'key' : 'keys'}`,
    );
    // A difference is a result, not an error: printed (also with --json), then the exit code says so.
    if (result.differ) process.exitCode = ExitCode.Failure;
    return { org, project, ...result };
  }
}
