import * as Flags from '@oclif/core/flags';
import { SecrApiError } from '@secr/sdk';
import { BaseCommand } from '../base-command.js';
import { credentialsPath, deleteCredentials } from '../lib/config.js';

export interface LogoutResult {
  /** False when no login was stored. */
  loggedOut: boolean;
  /** Whether the API revoked the token (false: it was already invalid, or revoking was refused). */
  revoked: boolean;
  credentialsFile: string;
}

export default class Logout extends BaseCommand<typeof Logout, LogoutResult> {
  static override summary = 'Revoke the stored CLI token and delete it from your config dir';
  static override description = 'SECR_TOKEN is never touched: revoke CI tokens with `secr tokens revoke`.';
  static override examples = ['<%= config.bin %> logout', '<%= config.bin %> logout --keep-token'];
  static override flags = {
    'keep-token': Flags.boolean({ description: 'Only delete the local file; leave the token valid on the server' }),
  };

  async run(): Promise<LogoutResult> {
    const credentialsFile = credentialsPath();
    const stored = await this.storedCredentials();
    if (!stored) {
      this.log('Not logged in.');
      return { loggedOut: false, revoked: false, credentialsFile };
    }
    const revoked = this.flags['keep-token'] ? false : await this.revoke(stored.token);
    await deleteCredentials();
    this.log(`Logged out${revoked ? ' (token revoked)' : ''}; deleted ${credentialsFile}`);
    return { loggedOut: true, revoked, credentialsFile };
  }

  /** `POST /auth/logout` revokes the bearer token that makes the call; any token may revoke itself. */
  private async revoke(token: string): Promise<boolean> {
    const api = await this.anonymousApi({ authorization: `Bearer ${token}` });
    try {
      this.unwrap(await api.POST('/v1/auth/logout'));
      return true;
    } catch (error) {
      // An expired or revoked token is as good as revoked; anything else is worth a warning.
      if (!(error instanceof SecrApiError) || error.statusCode !== 401) {
        this.warn(`The token could not be revoked: ${(error as Error).message}`);
      }
      return false;
    }
  }
}
