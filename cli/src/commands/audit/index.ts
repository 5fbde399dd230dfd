import * as Flags from '@oclif/core/flags';
import type { components } from '@secr/sdk';
import { BaseCommand, orgFlags } from '../../base-command.js';
import { auditFilter, auditFilterFlags } from '../../lib/audit-filter.js';
import { usageError } from '../../lib/errors.js';
import { formatTime, renderTable } from '../../lib/table.js';

export type AuditResult = components['schemas']['AuditPageDto'] & { org: string };

export default class Audit extends BaseCommand<typeof Audit, AuditResult> {
  static override summary = 'Show the org’s audit log, newest first (owner or admin)';
  static override description =
    'Pages by cursor: the last line prints the --before value of the next (older) page, and --after finds events newer than a page. --offset pages the old way, with a total.';
  static override examples = [
    '<%= config.bin %> audit',
    '<%= config.bin %> audit --action secret.read --limit 20',
    '<%= config.bin %> audit --project api --env prod --key DATABASE_URL',
    '<%= config.bin %> audit --actor ada@example.com --from 2026-12-01 --to 2026-12-02',
    '<%= config.bin %> audit --json --limit 500 --before djE6MTIzNDU',
  ];
  static override flags = {
    ...orgFlags,
    ...auditFilterFlags,
    limit: Flags.integer({ description: 'Events per page (1–500)', default: 50, min: 1, max: 500 }),
    before: Flags.string({ description: 'Events older than this cursor (printed under the previous page)', exclusive: ['after', 'offset'] }),
    after: Flags.string({ description: 'Events newer than this cursor', exclusive: ['before', 'offset'] }),
    offset: Flags.integer({ description: 'Events to skip (offset paging, with a total)', min: 0, exclusive: ['before', 'after'] }),
  };

  async run(): Promise<AuditResult> {
    const org = await this.targetOrg();
    const api = await this.api();
    const { limit, before, after, offset } = this.flags;
    if (before !== undefined && after !== undefined) throw usageError('Use one of --before and --after');
    const query = {
      limit,
      ...(await auditFilter(api, org, this.flags)),
      ...(before ? { before } : {}),
      ...(after ? { after } : {}),
      ...(offset !== undefined ? { offset } : {}),
    };
    const page = this.unwrap(await api.GET('/v1/audit/{orgId}', { params: { path: { orgId: org.id }, query } }));
    this.log(
      renderTable(
        ['TIME', 'ACTION', 'ACTOR', 'IP', 'DETAILS'],
        page.events.map((e) => [formatTime(e.createdAt), e.action, e.actorEmail ?? e.actorUserId ?? '-', e.ip ?? '-', summarize(e.metadata)]),
      ),
    );
    if (page.pagination) {
      const { offset: from, total } = page.pagination;
      this.log(`${page.events.length ? `${from + 1}–${from + page.events.length}` : 'none'} of ${total}`);
    } else {
      this.log(`${page.events.length || 'no'} events`);
    }
    if (page.cursors.before) this.log(`Older: --before ${page.cursors.before}`);
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
