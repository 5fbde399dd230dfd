import type { components } from '@secr/sdk';
import { BaseCommand, orgFlags } from '../../base-command.js';
import { formatTime, renderTable } from '../../lib/table.js';

export interface OidcListResult {
  trusts: Array<components['schemas']['OidcTrustDto']>;
}

export default class OidcLs extends BaseCommand<typeof OidcLs, OidcListResult> {
  static override summary = 'List the org’s trust relationships with CI OIDC issuers (owner/admin)';
  static override examples = ['<%= config.bin %> oidc ls', '<%= config.bin %> oidc ls --org acme --json'];
  static override flags = { ...orgFlags };

  async run(): Promise<OidcListResult> {
    const org = await this.targetOrg();
    const api = await this.api();
    const { trusts } = this.unwrap(await api.GET('/v1/orgs/{orgId}/oidc-trusts', { params: { path: { orgId: org.id } } }));
    this.log(
      renderTable(
        ['ID', 'NAME', 'ISSUER', 'CONDITIONS', 'SCOPE', 'TTL', 'CREATED'],
        trusts.map((t) => [
          t.id,
          t.name,
          t.issuer,
          t.conditions.map((c) => `${c.claim}=${c.pattern}`).join(', '),
          `${t.projectSlug}/${t.environments?.join('+') ?? '*'} ${t.access}`,
          `${t.ttlSeconds}s`,
          formatTime(t.createdAt),
        ]),
      ),
    );
    return { trusts };
  }
}
