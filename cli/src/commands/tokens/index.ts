import type { components } from '@secr/sdk';
import { BaseCommand } from '../../base-command.js';
import { formatTime, renderTable } from '../../lib/table.js';

export interface TokensResult {
  tokens: Array<components['schemas']['TokenDto'] & { current: boolean }>;
}

export default class Tokens extends BaseCommand<typeof Tokens, TokensResult> {
  static override summary = 'List your active tokens (never the tokens themselves)';
  static override examples = ['<%= config.bin %> tokens', '<%= config.bin %> tokens --json'];

  async run(): Promise<TokensResult> {
    const api = await this.api();
    const currentId = (await this.storedCredentials())?.tokenId;
    const { tokens } = this.unwrap(await api.GET('/v1/auth/tokens'));
    const marked = tokens.map((t) => ({ ...t, current: !process.env.SECR_TOKEN && t.id === currentId }));
    this.log(
      renderTable(
        ['ID', 'NAME', 'KIND', 'ACCESS', 'SCOPE', 'LAST USED', 'EXPIRES'],
        marked.map((t) => [
          t.id,
          `${t.name}${t.current ? ' (this CLI)' : ''}`,
          t.kind,
          t.access,
          [t.orgId ? `org ${t.orgId.slice(0, 8)}` : 'all orgs', t.projectId ? `project ${t.projectId.slice(0, 8)}` : '', t.environments?.join('+') ?? '']
            .filter(Boolean)
            .join(', '),
          formatTime(t.lastUsedAt),
          formatTime(t.expiresAt),
        ]),
      ),
    );
    return { tokens: marked };
  }
}
