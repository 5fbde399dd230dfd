import { requestJson } from './http-json.js';

export interface PullRequest {
  apiUrl: string;
  token: string;
  org: string;
  project: string;
  env: string;
  /** Milliseconds for the whole request; default 30 s (the SDK's). */
  timeoutMs?: number;
  userAgent: string;
  /** The stored text, references unresolved (`?raw=true`). */
  raw?: boolean;
}

export interface PulledSecret {
  key: string;
  value: string;
}

/** `GET /v1/secrets/{org}/{project}/{env}` over node:http(s), for `secr run`'s fast path (http-json.ts). */
export async function pullSecrets(request: PullRequest): Promise<PulledSecret[]> {
  const path = [request.org, request.project, request.env].map(encodeURIComponent).join('/');
  const parsed = await requestJson<{ secrets?: PulledSecret[] }>({
    method: 'GET',
    url: new URL(`${request.apiUrl.replace(/\/+$/, '')}/v1/secrets/${path}${request.raw ? '?raw=true' : ''}`),
    headers: { authorization: `Bearer ${request.token}`, 'user-agent': request.userAgent },
    timeoutMs: request.timeoutMs,
  });
  return parsed?.secrets ?? [];
}
