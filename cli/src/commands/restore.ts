import * as Flags from '@oclif/core/flags';
import type { components } from '@secr/sdk';
import { BaseCommand, envFlags } from '../base-command.js';
import { usageError } from '../lib/errors.js';

export type RestoreResult = components['schemas']['RestoreResultDto'] & { org: string; project: string; env: string };

const MARK = { restored: '~', revived: '+', deleted: '-', unchanged: '=' } as const;
const PLAN = { restored: 'restore the old value', revived: 'bring back (deleted since)', deleted: 'delete (created since)', unchanged: 'unchanged' } as const;
const DONE = { restored: 'restored', revived: 'brought back', deleted: 'deleted', unchanged: 'unchanged' } as const;

export default class Restore extends BaseCommand<typeof Restore, RestoreResult> {
  static override summary = 'Restore an environment (or some keys) to how it was at a point in time';
  static override description = `One atomic write: keys whose value changed since get their old value as a new version, keys deleted since come back, keys created since are deleted (history is kept). --dry-run prints the plan and changes nothing. Production-tier environments: owner or admin only.`;
  static override examples = [
    '<%= config.bin %> restore --env production --to 2026-11-30T12:00Z --dry-run',
    '<%= config.bin %> restore --env staging --to 2026-11-30T12:00:00Z --keys DATABASE_URL,API_KEY',
  ];
  static override flags = {
    ...envFlags,
    to: Flags.string({ description: 'The instant, ISO 8601 (e.g. 2026-11-30T12:00Z; UTC unless an offset is given)', required: true }),
    keys: Flags.string({ description: 'Comma-separated keys to restore (default: all)' }),
    'dry-run': Flags.boolean({ description: 'Show the plan; change nothing' }),
  };

  async run(): Promise<RestoreResult> {
    const target = await this.target();
    const at = Date.parse(this.flags.to);
    if (Number.isNaN(at)) throw usageError(`--to is not a date and time: ${this.flags.to}`);
    const keys = this.flags.keys
      ?.split(',')
      .map((k) => k.trim())
      .filter(Boolean);
    if (keys && keys.length === 0) throw usageError('--keys lists no key');
    const dryRun = this.flags['dry-run'];
    const api = await this.api();
    const result = this.unwrap(
      await api.POST('/v1/secrets/{orgSlug}/{project}/{env}/restore', {
        params: { path: { orgSlug: target.org, project: target.project, env: target.env } },
        body: { to: new Date(at).toISOString(), dryRun, ...(keys ? { keys } : {}) },
      }),
    );

    this.log(`${dryRun ? 'Dry run (nothing changed): ' : ''}${target.project}/${target.env} as of ${result.to}`);
    const words = dryRun ? PLAN : DONE;
    const width = Math.max(0, ...result.results.map((r) => r.key.length));
    for (const r of result.results) {
      const version = r.fromVersion !== undefined && r.action !== 'unchanged' ? ` (version ${r.fromVersion}${r.version ? ` → ${r.version}` : ''})` : '';
      this.log(`  ${MARK[r.action]} ${r.key.padEnd(width)}  ${words[r.action]}${version}`);
    }
    if (result.results.length === 0) this.log('  (no secrets then or now)');
    this.log(
      `${dryRun ? 'Would restore' : 'Restored'}: ${result.restored} changed back, ${result.revived} brought back, ${result.deleted} deleted, ${result.unchanged} unchanged`,
    );
    return { ...target, ...result };
  }
}
