import * as Flags from '@oclif/core/flags';
import type { components } from '@secr/sdk';
import { BaseCommand, orgFlags } from '../base-command.js';
import { formatTime, renderTable } from '../lib/table.js';

export type AuditResult = components['schemas']['AuditPageDto'] & { org: string };

export default class Audit extends BaseCommand<typeof Audit, AuditResult> {
  static override summary = 'Show the org’s audit log, newest first (owner or admin)';
  static override examples = [
    '<%= config.bin %> audit',
    '<%= config.bin %> audit --action secret.read --limit 20',
    '<%= config.bin %> audit --json --limit 500 --offset 500',
  ];
  static override flags = {
    ...orgFlags,
    limit: Flags.integer({ description: 'Events per page (1–500)', default: 50, min: 1, max: 500 }),
    offset: Flags.integer({ description: 'Events to skip', default: 0, min: 0 }),
    action: Flags.string({ description: 'Only this action, e.g. secret.read, secret.promote, member.invited' }),
  };

  async run(): Promise<AuditResult> {
    const org = await this.targetOrg();
    const api = await this.api();
    const query = { limit: this.flags.limit, offset: this.flags.offset, ...(this.flags.action ? { action: this.flags.action } : {}) };
    const page = this.unwrap(await api.GET('/v1/audit/{orgId}', { params: { path: { orgId: org.id }, query } }));
    this.log(
      renderTable(
        ['TIME', 'ACTION', 'ACTOR', 'IP', 'DETAILS'],
        page.events.map((e) => [formatTime(e.createdAt), e.action, e.actorEmail ?? e.actorUserId ?? '-', e.ip ?? '-', summarize(e.metadata)]),
      ),
    );
    const { offset, total } = page.pagination;
    this.log(`${page.events.length ? `${offset + 1}–${offset + page.events.length}` : 'none'} of ${total}`);
    return { org: org.slug, ...page };
  }
}

/** `key=DATABASE_URL env=production`: the metadata holds names and counts, never values. */
function summarize(metadata: Record<string, unknown>): string {
  return (
    Object.entries(metadata)
      // Ids are in --json; the line keeps the names a person reads.
      .filter(([k, v]) => v !== null && v !== undefined && !/Id$/.test(k) && !(Array.isArray(v) && v.length === 0))
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(' ')
      .slice(0, 120)
  );
}
