import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../base-command.js';
import { credentialsPath, deleteCredentials } from '../lib/config.js';
import { revokeOwnToken } from '../lib/login.js';

export interface LogoutResult {
  /** False when no login was stored. */
  loggedOut: boolean;
  /** Whether the API revoked the token (false: it was kept, already invalid, or revoking was refused). */
  revoked: boolean;
  credentialsFile: string;
}

export default class Logout extends BaseCommand<typeof Logout, LogoutResult> {
  static override summary = 'Delete the stored login, revoking the CLI token that `secr login` minted';
  static override description =
    'A token stored with `secr login --token` (a CI or shared token) is only forgotten, not revoked, unless --revoke. SECR_TOKEN is never touched: revoke CI tokens with `secr tokens revoke`.';
  static override examples = ['<%= config.bin %> logout', '<%= config.bin %> logout --keep-token', '<%= config.bin %> logout --revoke'];
  static override flags = {
    'keep-token': Flags.boolean({ description: 'Only delete the local file; leave the token valid on the server', exclusive: ['revoke'] }),
    revoke: Flags.boolean({ description: 'Also revoke a token stored with `secr login --token`', exclusive: ['keep-token'] }),
  };

  async run(): Promise<LogoutResult> {
    const credentialsFile = credentialsPath();
    const stored = await this.storedCredentials();
    if (!stored) {
      this.log('Not logged in.');
      return { loggedOut: false, revoked: false, credentialsFile };
    }
    const minted = Boolean(stored.tokenId);
    const revoke = !this.flags['keep-token'] && (minted || this.flags.revoke);
    const revoked = revoke ? await this.revoke(stored.token) : false;
    await deleteCredentials();
    const kept = !revoke && !minted ? ' (the token given to `secr login --token` stays valid; --revoke revokes it)' : '';
    this.log(`Logged out${revoked ? ' (token revoked)' : kept}; deleted ${credentialsFile}`);
    return { loggedOut: true, revoked, credentialsFile };
  }

  private async revoke(token: string): Promise<boolean> {
    try {
      return await revokeOwnToken((h) => this.anonymousApi(h), token);
    } catch (error) {
      this.warn(`The token could not be revoked: ${(error as Error).message}`);
      return false;
    }
  }
}
