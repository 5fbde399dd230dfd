import type { HttpClient } from '../support/http.js';

export interface StartedCliLogin {
  deviceCode: string;
  userCode: string;
  verificationPath: string;
  expiresAt: string;
  interval: number;
}

/** What `secr login` does first: a CLI sign-in request, as the CLI sees it. */
export async function startCliLogin(api: HttpClient, hostname = 'test-host'): Promise<StartedCliLogin> {
  const res = await api.post('/v1/auth/cli-login', { hostname });
  if (res.status !== 201) throw new Error(`cli-login failed: ${res.status} ${res.text}`);
  return res.body;
}
