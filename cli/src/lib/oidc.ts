import { CliFailure, ExitCode } from './errors.js';
import { requestJson } from './http-json.js';

/** What an OIDC exchange gave: a short-lived token (kept in memory only) and where it reaches. */
export interface OidcSession {
  token: string;
  tokenId: string;
  expiresAt: string;
  access: 'read' | 'read_write';
  orgSlug: string;
  projectSlug: string;
  environments: string[] | null;
}

export interface OidcExchangeOptions {
  apiUrl: string;
  timeoutMs?: number;
  userAgent: string;
  env?: NodeJS.ProcessEnv;
}

/** Keyless CI is asked for: `SECR_OIDC` names a trust relationship (its id, from `secr oidc ls`). */
export function oidcRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.SECR_OIDC);
}

let session: Promise<OidcSession> | undefined;

/**
 * Exchanges the CI job's OIDC token for a secr token, once per process (never written anywhere):
 * the JWT from `SECR_ID_TOKEN` (GitLab `id_tokens:`, CircleCI, Buildkite, …), else asked from GitHub
 * Actions (`ACTIONS_ID_TOKEN_REQUEST_URL` + `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, the job needs
 * `permissions: id-token: write`) for the audience `SECR_OIDC_AUDIENCE`, else the API URL.
 */
export function oidcSession(options: OidcExchangeOptions): Promise<OidcSession> {
  session ??= exchange(options);
  return session;
}

async function exchange({ apiUrl, timeoutMs, userAgent, env = process.env }: OidcExchangeOptions): Promise<OidcSession> {
  const trustId = env.SECR_OIDC!;
  const base = apiUrl.replace(/\/+$/, '');
  const jwt = env.SECR_ID_TOKEN || (await githubToken(env, env.SECR_OIDC_AUDIENCE || base, timeoutMs, userAgent));
  const exchanged = await requestJson<OidcSession>({
    method: 'POST',
    url: new URL(`${base}/v1/auth/oidc`),
    headers: { 'user-agent': userAgent },
    body: { trustId, token: jwt },
    timeoutMs,
  });
  if (!exchanged?.token) throw new CliFailure('The OIDC exchange answered without a token', 'oidc_failed', ExitCode.Failure);
  return exchanged;
}

/** GitHub Actions' token request: the URL already has a query (`?api-version=…`), the audience is appended. */
async function githubToken(env: NodeJS.ProcessEnv, audience: string, timeoutMs: number | undefined, userAgent: string): Promise<string> {
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!requestUrl || !requestToken) {
    throw new CliFailure(
      'SECR_OIDC is set but this CI offers no OIDC token: on GitHub Actions give the job `permissions: id-token: write`; elsewhere put the job’s token in SECR_ID_TOKEN',
      'oidc_no_token',
      ExitCode.Unauthenticated,
    );
  }
  const url = new URL(requestUrl);
  url.searchParams.set('audience', audience);
  let answer: { value?: string } | undefined;
  try {
    answer = await requestJson<{ value?: string }>({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${requestToken}`, 'user-agent': userAgent },
      timeoutMs,
    });
  } catch (error) {
    // Never repeat GitHub's answer: say who failed, and how.
    const status = (error as { statusCode?: number }).statusCode;
    throw new CliFailure(`GitHub Actions did not hand out an OIDC token${status ? ` (HTTP ${status})` : ''}`, 'oidc_no_token', ExitCode.Unauthenticated);
  }
  if (!answer?.value) throw new CliFailure('GitHub Actions answered without an OIDC token', 'oidc_no_token', ExitCode.Unauthenticated);
  return answer.value;
}
