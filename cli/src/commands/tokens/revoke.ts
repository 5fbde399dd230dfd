import * as Args from '@oclif/core/args';
import { BaseCommand } from '../../base-command.js';

export interface TokenRevokeResult {
  id: string;
  revoked: boolean;
}

export default class TokensRevoke extends BaseCommand<typeof TokensRevoke, TokenRevokeResult> {
  static override summary = 'Revoke one of your tokens (see `secr tokens` for ids)';
  static override examples = ['<%= config.bin %> tokens revoke 3f0c2a4e-…'];
  static override args = { id: Args.string({ description: 'Token id', required: true }) };

  async run(): Promise<TokenRevokeResult> {
    const api = await this.api();
    this.unwrap(await api.DELETE('/v1/auth/tokens/{tokenId}', { params: { path: { tokenId: this.args.id } } }));
    this.log(`Revoked token ${this.args.id}`);
    return { id: this.args.id, revoked: true };
  }
}
