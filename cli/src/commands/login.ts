import os from 'node:os';
import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../base-command.js';
import { loginThroughBrowser } from '../lib/browser-login.js';
import { writeCredentials } from '../lib/config.js';
import { usageError } from '../lib/errors.js';
import { ask, askHidden, isInteractive, readStdin, stripFinalNewline } from '../lib/prompt.js';

export interface LoginResult {
  email: string;
  apiUrl: string;
  /** Where the token was stored (mode 0600). */
  credentialsFile: string;
  tokenId: string | null;
  tokenHint: string;
}

export default class Login extends BaseCommand<typeof Login, LoginResult> {
  static override summary = 'Log in and store a CLI token (secr_cli_…) in your config dir';
  static override description = `Without flags, secr prints a link and a code: open it in a browser (on any machine), sign in to the dashboard and approve; secr waits and stores the CLI token it receives.
With --email and a password, secr signs in, mints a read-write CLI token named "secr CLI on <host>", and ends the sign-in session at once: only the token is kept, in $SECR_CONFIG_DIR, $XDG_CONFIG_HOME/secr or ~/.config/secr (credentials.json, mode 0600).
Without a terminal, the password is read from stdin. With --token, an existing token is checked and stored instead.
In CI, do not log in: set SECR_TOKEN (and SECR_API_URL).`;
  static override examples = [
    '<%= config.bin %> login',
    '<%= config.bin %> login --email ada@example.com',
    'echo "$PASSWORD" | <%= config.bin %> login --email ada@example.com --api-url https://secr.internal',
    '<%= config.bin %> login --token secr_tok_…',
  ];
  static override flags = {
    email: Flags.string({ description: 'Sign in with this email and a password (asked for, or read from stdin) instead of the browser', exclusive: ['token'] }),
    token: Flags.string({ description: 'Store this token (secr_cli_… or secr_tok_…) instead of signing in', exclusive: ['email'] }),
  };

  async run(): Promise<LoginResult> {
    const apiUrl = await this.apiUrl();
    const minted = this.flags.token
      ? await this.checkToken(this.flags.token)
      : this.flags.email
        ? await this.mintToken()
        : await loginThroughBrowser(await this.anonymousApi(), apiUrl, (line) => this.logToStderr(line));
    const credentialsFile = await writeCredentials({
      apiUrl,
      token: minted.token,
      ...(minted.tokenId ? { tokenId: minted.tokenId } : {}),
      email: minted.email,
      createdAt: new Date().toISOString(),
    });
    this.log(`Logged in to ${apiUrl} as ${minted.email}`);
    this.log(`Token ${minted.hint} stored in ${credentialsFile}`);
    return { email: minted.email, apiUrl, credentialsFile, tokenId: minted.tokenId, tokenHint: minted.hint };
  }

  private async checkToken(token: string): Promise<Minted> {
    if (!token.startsWith('secr_')) throw usageError('A secr token starts with secr_cli_ or secr_tok_');
    const api = await this.anonymousApi({ authorization: `Bearer ${token}` });
    const me = this.unwrap(await api.GET('/v1/auth/me'));
    return { token, tokenId: null, email: me.user.email, hint: `${token.slice(0, 13)}…` };
  }

  private async mintToken(): Promise<Minted> {
    const email = this.flags.email ?? (await ask('Email: ', 'email')).trim();
    if (!email) throw usageError('An email is needed (--email)');
    const password = isInteractive() ? await askHidden('Password: ', 'password') : stripFinalNewline(await readStdin());
    if (!password) throw usageError('A password is needed (from the prompt or stdin)');

    const anonymous = await this.anonymousApi();
    const login = await anonymous.POST('/v1/auth/login', { body: { email, password } });
    const signedIn = this.unwrap(login);
    const cookie = login.response.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .find((c) => c.startsWith('__secr_session='));
    if (!cookie) throw new Error('The API signed in but sent no session cookie');

    // The session exists only to mint the token; it is ended whatever happens.
    const session = await this.anonymousApi({ cookie, 'x-requested-with': 'secr' });
    try {
      const created = this.unwrap(
        await session.POST('/v1/auth/token', { body: { name: `secr CLI on ${os.hostname()}`.slice(0, 100), access: 'read_write', kind: 'cli' } }),
      );
      return { token: created.token, tokenId: created.id, email: signedIn.user.email, hint: created.hint };
    } finally {
      await session.POST('/v1/auth/logout').catch(() => undefined);
    }
  }
}

interface Minted {
  token: string;
  tokenId: string | null;
  email: string;
  hint: string;
}
