import os from 'node:os';
import { SecrApiError, unwrap, type SecrApi } from '@secr/sdk';
import { writeCredentials, type StoredCredentials } from './config.js';

/** A token `secr login` or `secr signup` is about to store. */
export interface Minted {
  token: string;
  /** Set when this CLI minted the token: `secr logout` revokes only such tokens. */
  tokenId: string | null;
  email: string;
  hint: string;
}

type ApiFactory = (headers?: Record<string, string>) => Promise<SecrApi>;

/**
 * Signs in with a password, mints a read-write `secr_cli_` token, and ends the sign-in session
 * whatever happens: only the token is kept.
 */
export async function signInAndMint(anonymousApi: ApiFactory, email: string, password: string): Promise<Minted> {
  const anonymous = await anonymousApi();
  const login = await anonymous.POST('/v1/auth/login', { body: { email, password } });
  const signedIn = unwrap(login);
  const cookie = login.response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .find((c) => c.startsWith('__secr_session='));
  if (!cookie) throw new Error('The API signed in but sent no session cookie');

  const session = await anonymousApi({ cookie, 'x-requested-with': 'secr' });
  try {
    const created = unwrap(
      await session.POST('/v1/auth/token', { body: { name: `secr CLI on ${os.hostname()}`.slice(0, 100), access: 'read_write', kind: 'cli' } }),
    );
    return { token: created.token, tokenId: created.id, email: signedIn.user.email, hint: created.hint };
  } finally {
    await session.POST('/v1/auth/logout').catch(() => undefined);
  }
}

/**
 * Stores the new login, then revokes the token it replaces when this CLI minted that one (a token
 * stored with `--token` belongs to someone else, e.g. a pipeline, and is left alone). Returns whether
 * a replaced token was revoked.
 */
export async function storeLogin(
  anonymousApi: ApiFactory,
  previous: StoredCredentials | null,
  next: StoredCredentials,
): Promise<{ credentialsFile: string; revokedPrevious: boolean }> {
  const credentialsFile = await writeCredentials(next);
  const replacesMinted = previous?.tokenId && previous.token !== next.token && previous.apiUrl === next.apiUrl;
  const revokedPrevious = replacesMinted ? await revokeOwnToken(anonymousApi, previous.token) : false;
  return { credentialsFile, revokedPrevious };
}

/**
 * `POST /auth/logout` with a bearer token revokes that token (any token may revoke itself). False when
 * it was already invalid (401); other failures are thrown.
 */
export async function revokeOwnToken(anonymousApi: ApiFactory, token: string): Promise<boolean> {
  const api = await anonymousApi({ authorization: `Bearer ${token}` });
  try {
    unwrap(await api.POST('/v1/auth/logout'));
    return true;
  } catch (error) {
    if (error instanceof SecrApiError && error.statusCode === 401) return false;
    throw error;
  }
}
