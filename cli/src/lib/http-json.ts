import http, { type IncomingMessage } from 'node:http';
import { isRedirect, redirectError, SecrApiError } from '@secr/sdk';

export interface JsonRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: unknown;
  /** Milliseconds for the whole request; default 30 s (the SDK's). */
  timeoutMs?: number;
}

const CODES: Record<number, string> = { 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 429: 'rate_limited' };

/**
 * One JSON request over node:http(s), for the paths that must start fast (`secr run`, the OIDC
 * exchange): a fresh Node process loads `fetch` (undici) in ~200 ms, node:http in a fraction of that.
 * Failures become the SDK's SecrApiError exactly as the SDK's client makes them (network_error,
 * timeout, the API's error body).
 */
export async function requestJson<T>(request: JsonRequest): Promise<T | undefined> {
  const { url } = request;
  const timeout = request.timeoutMs ?? 30_000;
  const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
  const headers = { accept: 'application/json', ...request.headers, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) };
  // TLS only when the URL needs it: node:https costs a TLS stack to load.
  const send = url.protocol === 'https:' ? (await import('node:https')).request : http.request;
  // node:http follows no redirect; a 3xx is said as the SDK says it.
  const { status, body, location } = await new Promise<{ status: number; body: string; location: string | null }>((resolve, reject) => {
    const req = send(url, { method: request.method, headers });
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
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), location: res.headers.location ?? null });
      });
      res.once('error', (error) => {
        clearTimeout(timer);
        reject(new SecrApiError(`Cannot reach ${url.origin}: ${error.message}`, 0, 'network_error'));
      });
    });
    req.end(payload);
  });
  if (isRedirect(status)) throw redirectError(status, location, url);
  let parsed: (T & { message?: string; code?: string; requestId?: string; errors?: Array<{ field: string; message: string }> }) | undefined;
  try {
    parsed = body ? JSON.parse(body) : undefined;
  } catch {
    parsed = undefined;
  }
  if (status < 200 || status >= 300) {
    throw new SecrApiError(parsed?.message ?? `HTTP ${status}`, status, parsed?.code ?? CODES[status] ?? 'http_error', {
      requestId: parsed?.requestId,
      errors: parsed?.errors,
    });
  }
  return parsed;
}
