import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../base-command.js';
import { loginThroughBrowser } from '../lib/browser-login.js';
import { signInAndMint, storeLogin, type Minted } from '../lib/login.js';
import { usageError } from '../lib/errors.js';
import { ask, askHidden, isInteractive, readStdin, stripFinalNewline } from '../lib/prompt.js';

export interface LoginResult {
  email: string;
  apiUrl: string;
  /** Where the token was stored (mode 0600). */
  credentialsFile: string;
  /** Set when secr minted the token (and so `secr logout` revokes it); null for `--token`. */
  tokenId: string | null;
  tokenHint: string;
  /** Whether the CLI token this login replaces was revoked. */
  revokedPrevious: boolean;
}

export default class Login extends BaseCommand<typeof Login, LoginResult> {
  static override summary = 'Log in and store a CLI token (secr_cli_…) in your config dir';
  static override description = `Without flags, secr prints a link and a code: open it in a browser (on any machine), sign in to the dashboard and approve; secr waits and stores the CLI token it receives.
With --email and a password, secr signs in, mints a read-write CLI token named "secr CLI on <host>", and ends the sign-in session at once: only the token is kept, in $SECR_CONFIG_DIR, $XDG_CONFIG_HOME/secr or ~/.config/secr (credentials.json, mode 0600). A CLI token of an earlier \`secr login\` to the same server is revoked.
Without a terminal, the password is read from stdin. With --token, an existing token is checked and stored instead (--token - reads it from stdin, which keeps it out of the process list); \`secr logout\` leaves such a token valid.
In CI, do not log in: set SECR_TOKEN (and SECR_API_URL).`;
  static override examples = [
    '<%= config.bin %> login',
    '<%= config.bin %> login --email ada@example.com',
    'echo "$PASSWORD" | <%= config.bin %> login --email ada@example.com --api-url https://secr.internal',
    'echo "$SECR_CI_TOKEN" | <%= config.bin %> login --token -',
  ];
  static override flags = {
    email: Flags.string({ description: 'Sign in with this email and a password (asked for, or read from stdin) instead of the browser', exclusive: ['token'] }),
    token: Flags.string({ description: 'Store this token (secr_cli_… or secr_tok_…) instead of signing in; - reads it from stdin', exclusive: ['email'] }),
  };

  async run(): Promise<LoginResult> {
    const apiUrl = await this.apiUrl();
    const previous = await this.storedCredentials();
    const minted = this.flags.token
      ? await this.checkToken(this.flags.token)
      : this.flags.email
        ? await this.mintToken(apiUrl)
        : await loginThroughBrowser(await this.anonymousApi(), apiUrl, (line) => this.logToStderr(line));
    const { credentialsFile, revokedPrevious } = await storeLogin((h) => this.anonymousApi(h), previous, {
      apiUrl,
      token: minted.token,
      ...(minted.tokenId ? { tokenId: minted.tokenId } : {}),
      email: minted.email,
      createdAt: new Date().toISOString(),
    });
    this.log(`Logged in to ${apiUrl} as ${minted.email}`);
    this.log(`Token ${minted.hint} stored in ${credentialsFile}${revokedPrevious ? ' (the CLI token it replaces is revoked)' : ''}`);
    return { email: minted.email, apiUrl, credentialsFile, tokenId: minted.tokenId, tokenHint: minted.hint, revokedPrevious };
  }

  private async checkToken(flag: string): Promise<Minted> {
    const token = flag === '-' ? (await readStdin()).trim() : flag;
    if (!token.startsWith('secr_')) throw usageError('A secr token starts with secr_cli_ or secr_tok_');
    const api = await this.anonymousApi({ authorization: `Bearer ${token}` });
    const me = this.unwrap(await api.GET('/v1/auth/me'));
    return { token, tokenId: null, email: me.user.email, hint: `${token.slice(0, 13)}…` };
  }

  private async mintToken(apiUrl: string): Promise<Minted> {
    // Say where the password goes before asking for it.
    if (isInteractive()) process.stderr.write(`Signing in to ${apiUrl}\n`);
    const email = this.flags.email ?? (await ask('Email: ', 'email')).trim();
    if (!email) throw usageError('An email is needed (--email)');
    const password = isInteractive() ? await askHidden('Password: ', 'password') : stripFinalNewline(await readStdin());
    if (!password) throw usageError('A password is needed (from the prompt or stdin)');
    return signInAndMint((h) => this.anonymousApi(h), email, password);
  }
}
