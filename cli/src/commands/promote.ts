import * as Flags from '@oclif/core/flags';
import type { components } from '@secr/sdk';
import { BaseCommand, projectFlags } from '../base-command.js';
import { usageError } from '../lib/errors.js';

export type PromoteResult = components['schemas']['PromoteResultDto'] & { org: string; project: string; from: string; to: string };

type Item = PromoteResult['results'][number];

const MARK = { created: '+', updated: '~', skipped: '=' } as const;
const PLAN = { created: 'create', updated: 'overwrite', skipped: 'skip' } as const;
const DONE = { created: 'created', updated: 'overwritten', skipped: 'skipped' } as const;
/** What an overwrite replaces: a different value, or (`exists`) one that was not compared. */
const WHY_UPDATED: Partial<Record<Item['difference'], string>> = { changed: ' (different value)', exists: ' (not compared)' };
/**
 * Why a key is skipped: the target has the same value, or another one and no --overwrite, or (`exists`:
 * for a caller who may not read the target environment, whose values are not compared) a value and no --overwrite.
 */
const WHY_SKIPPED = {
  identical: ' (identical)',
  changed: ' (different value in target; --overwrite replaces it)',
  exists: ' (set in target, not compared: you may not read it; --overwrite replaces it)',
  new: '',
} as const;

export default class Promote extends BaseCommand<typeof Promote, PromoteResult> {
  static override summary = 'Copy secrets from one environment to another';
  static override description = `Keys missing from the target are created; keys it already has with a different value are skipped unless --overwrite; keys with the identical value are always skipped. The copy is atomic and happens at the encryption layer (values are decrypted only to be compared, on the server). --dry-run prints the plan and changes nothing.`;
  static override examples = [
    '<%= config.bin %> promote --from development --to staging',
    '<%= config.bin %> promote --from development --to staging --dry-run',
    '<%= config.bin %> promote --from staging --to production --overwrite',
    '<%= config.bin %> promote --from development --to staging --keys DATABASE_URL,REDIS_URL,API_KEY',
  ];
  static override flags = {
    ...projectFlags,
    from: Flags.string({ description: 'Source environment to copy secrets from', required: true }),
    to: Flags.string({ description: 'Target environment to copy secrets to', required: true }),
    keys: Flags.string({ description: 'Comma-separated list of keys to promote (default: all)' }),
    overwrite: Flags.boolean({ description: 'Overwrite secrets that already exist in the target' }),
    'dry-run': Flags.boolean({ description: 'Preview changes without applying them' }),
  };

  async run(): Promise<PromoteResult> {
    const { org, project } = await this.target();
    const { from, to, overwrite } = this.flags;
    const dryRun = this.flags['dry-run'];
    const keys = this.flags.keys
      ?.split(',')
      .map((k) => k.trim())
      .filter(Boolean);
    if (keys && keys.length === 0) throw usageError('--keys lists no key');
    const api = await this.api();
    const result = this.unwrap(
      await api.POST('/v1/secrets/{orgSlug}/{project}/promote', {
        params: { path: { orgSlug: org, project } },
        body: { fromEnv: from, toEnv: to, overwrite, dryRun, ...(keys ? { keys } : {}) },
      }),
    );

    this.log(`${dryRun ? 'Dry run (nothing changed): ' : ''}${project}: ${from} → ${to}`);
    const words = dryRun ? PLAN : DONE;
    const width = Math.max(0, ...result.results.map((r) => r.key.length));
    const describe = (item: Item) =>
      words[item.action] + (item.action === 'skipped' ? WHY_SKIPPED[item.difference] : item.action === 'updated' ? (WHY_UPDATED[item.difference] ?? '') : '');
    for (const item of result.results) this.log(`  ${MARK[item.action]} ${item.key.padEnd(width)}  ${describe(item)}`);
    if (result.results.length === 0) this.log('  (no secrets to promote)');
    this.log(`${dryRun ? 'Would promote' : 'Promoted'} ${result.promoted}: ${result.created} created, ${result.updated} updated, ${result.skipped} skipped`);
    return { org, project, from, to, ...result };
  }
}
