import http, { type IncomingMessage } from 'node:http';
import { SecrApiError } from '@secr/sdk';

export interface PullRequest {
  apiUrl: string;
  token: string;
  org: string;
  project: string;
  env: string;
  /** Milliseconds for the whole request; default 30 s (the SDK's). */
  timeoutMs?: number;
  userAgent: string;
}

export interface PulledSecret {
  key: string;
  value: string;
}

/**
 * `GET /v1/secrets/{org}/{project}/{env}` over node:http(s), for `secr run`'s fast path: a fresh Node
 * process loads `fetch` (undici) in ~200 ms, node:http in a fraction of that. Failures become the
 * SDK's SecrApiError exactly as the SDK's client makes them (network_error, timeout, the API's body).
 */
export async function pullSecrets(request: PullRequest): Promise<PulledSecret[]> {
  const timeout = request.timeoutMs ?? 30_000;
  const path = [request.org, request.project, request.env].map(encodeURIComponent).join('/');
  const url = new URL(`${request.apiUrl.replace(/\/+$/, '')}/v1/secrets/${path}`);
  // TLS only when the URL needs it: node:https costs a TLS stack to load.
  const send = url.protocol === 'https:' ? (await import('node:https')).request : http.request;
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = send(url, { headers: { authorization: `Bearer ${request.token}`, accept: 'application/json', 'user-agent': request.userAgent } });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new SecrApiError(`Request timed out after ${timeout} ms`, 0, 'timeout'));
    }, timeout);
    req.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new SecrApiError(`Cannot reach ${url.origin}: ${error.code ?? error.message}`, 0, 'network_error'));
    });
    req.once('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.once('error', (error) => {
        clearTimeout(timer);
        reject(new SecrApiError(`Cannot reach ${url.origin}: ${error.message}`, 0, 'network_error'));
      });
    });
    req.end();
  });
  let parsed: { message?: string; code?: string; requestId?: string; errors?: Array<{ field: string; message: string }>; secrets?: PulledSecret[] } | undefined;
  try {
    parsed = body ? JSON.parse(body) : undefined;
  } catch {
    parsed = undefined;
  }
  if (status < 200 || status >= 300) {
    const codes: Record<number, string> = { 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 429: 'rate_limited' };
    throw new SecrApiError(parsed?.message ?? `HTTP ${status}`, status, parsed?.code ?? codes[status] ?? 'http_error', {
      requestId: parsed?.requestId,
      errors: parsed?.errors,
    });
  }
  return parsed?.secrets ?? [];
}
