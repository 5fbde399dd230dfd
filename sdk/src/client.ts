import createClient, { type Client } from 'openapi-fetch';
import { SecrApiError } from './errors.js';
import type { paths } from './generated/api.js';
import { isRedirect, redirectError, warnInsecureApiUrl } from './transport.js';

/** The typed client of the whole API, generated from openapi.json: what the SDK and the CLI call. */
export type SecrApi = Client<paths>;

export interface ApiOptions {
  /** Bearer token: `secr_tok_…` or `secr_cli_…`. Optional only for public routes (register, login). */
  token?: string;
  /** Default `https://api.secr.dev`. */
  apiUrl?: string;
  /** Milliseconds per request; default 30000. */
  timeout?: number;
  /** Extra headers on every request (e.g. a session cookie with `X-Requested-With`). */
  headers?: Record<string, string>;
}

export const DEFAULT_API_URL = 'https://api.secr.dev';
export const DEFAULT_TIMEOUT_MS = 30_000;

export function createApi(options: ApiOptions = {}): SecrApi {
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
  const baseUrl = (options.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, '');
  warnInsecureApiUrl(baseUrl);
  const api = createClient<paths>({
    baseUrl,
    headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers },
    // Network failures and timeouts become SecrApiErrors with statusCode 0; a redirect is not followed
    // (it would re-send the token and the body, a value or a password, to wherever it points).
    fetch: async (request: Request) => {
      let response: Response;
      try {
        response = await fetch(request, { signal: AbortSignal.timeout(timeout), redirect: 'manual' });
      } catch (error) {
        const name = (error as Error).name;
        if (name === 'TimeoutError' || name === 'AbortError') {
          throw new SecrApiError(`Request timed out after ${timeout} ms`, 0, 'timeout');
        }
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new SecrApiError(`Cannot reach ${new URL(request.url).origin}: ${cause?.code ?? cause?.message ?? (error as Error).message}`, 0, 'network_error');
      }
      if (isRedirect(response.status)) {
        await response.body?.cancel();
        throw redirectError(response.status, response.headers.get('location'), request.url);
      }
      return response;
    },
  });
  return api;
}

interface ApiErrorBody {
  statusCode?: number;
  code?: string;
  message?: string;
  requestId?: string;
  errors?: Array<{ field: string; message: string }>;
}

/** The data of an openapi-fetch result, or the API's error as a SecrApiError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    const body = (result.error ?? {}) as ApiErrorBody;
    const status = result.response.status;
    throw new SecrApiError(body.message ?? `HTTP ${status}`, status, body.code ?? codeOf(status), {
      requestId: body.requestId,
      errors: body.errors,
    });
  }
  return result.data as T;
}

function codeOf(status: number): string {
  return (
    ({ 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 429: 'rate_limited' } as Record<number, string>)[status] ??
    'http_error'
  );
}
