import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../base-command.js';
import { signInAndMint, storeLogin } from '../lib/login.js';
import { usageError } from '../lib/errors.js';
import { ask, askHidden, isInteractive, readStdin, stripFinalNewline } from '../lib/prompt.js';
import type { LoginResult } from './login.js';

export type SignupResult = LoginResult;

export default class Signup extends BaseCommand<typeof Signup, SignupResult> {
  static override summary = 'Create an account (and its personal org), then log in as `secr login` does';
  static override description = `Asks for what is missing on a terminal (the password twice, hidden). Without a terminal, the password is read from stdin. The server mails a link that verifies the address (in development, the server's log shows it).`;
  static override examples = [
    '<%= config.bin %> signup',
    'echo "$PASSWORD" | <%= config.bin %> signup --email ada@example.com --name "Ada Lovelace" --api-url http://localhost:8080',
  ];
  static override flags = {
    email: Flags.string({ description: 'Account email (asked for when missing)' }),
    name: Flags.string({ description: 'Your name (asked for when missing)' }),
  };

  async run(): Promise<SignupResult> {
    const apiUrl = await this.apiUrl();
    if (isInteractive()) process.stderr.write(`Creating an account on ${apiUrl}\n`);
    const email = this.flags.email ?? (await ask('Email: ', 'email (--email)')).trim();
    if (!email) throw usageError('An email is needed (--email)');
    const name = this.flags.name ?? (await ask('Name: ', 'name (--name)')).trim();
    if (!name) throw usageError('A name is needed (--name)');
    const password = await this.newPassword();

    const anonymous = await this.anonymousApi();
    this.unwrap(await anonymous.POST('/v1/auth/register', { body: { email, password, name } }));
    const previous = await this.storedCredentials();
    const minted = await signInAndMint((h) => this.anonymousApi(h), email, password);
    const { credentialsFile, revokedPrevious } = await storeLogin((h) => this.anonymousApi(h), previous, {
      apiUrl,
      token: minted.token,
      ...(minted.tokenId ? { tokenId: minted.tokenId } : {}),
      email: minted.email,
      createdAt: new Date().toISOString(),
    });
    this.log(`Signed up and logged in to ${apiUrl} as ${minted.email}`);
    this.log(`Token ${minted.hint} stored in ${credentialsFile}`);
    this.log('Next: `secr init` in your project directory');
    return { email: minted.email, apiUrl, credentialsFile, tokenId: minted.tokenId, tokenHint: minted.hint, revokedPrevious };
  }

  private async newPassword(): Promise<string> {
    if (!isInteractive()) {
      const password = stripFinalNewline(await readStdin());
      if (!password) throw usageError('A password is needed on stdin (no terminal to ask on)');
      return password;
    }
    const password = await askHidden('Password (at least 10 characters): ', 'password');
    if (!password) throw usageError('A password is needed');
    if ((await askHidden('Password again: ', 'password')) !== password) throw usageError('The passwords differ');
    return password;
  }
}
