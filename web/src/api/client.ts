import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from '@api-types';

/** The error shape of every API answer (DESIGN.md §6), with the Retry-After of a 429. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds: number | null,
    readonly fieldErrors: Array<{ field: string; message: string }> = [],
  ) {
    super(message);
  }
}

/** Cookie-authenticated mutations need this header (CSRF); the session cookie itself is HttpOnly. */
const csrf: Middleware = {
  onRequest({ request }) {
    request.headers.set('X-Requested-With', 'secr');
    return request;
  },
};

/** One client for the whole dashboard, typed by the types generated from openapi.json. */
export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: 'same-origin', cache: 'no-store' });
api.use(csrf);

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful answer, or an ApiError that says what the API said. */
export async function unwrap<T>(pending: Promise<Answer<T>>): Promise<T> {
  const { data, error, response } = await pending;
  if (response.ok) return data as T;
  const body = (error ?? {}) as { code?: string; message?: string; errors?: Array<{ field: string; message: string }> };
  const retryAfter = response.headers.get('retry-after');
  throw new ApiError(
    response.status,
    body.code ?? 'error',
    body.message ?? `${response.status} ${response.statusText}`,
    retryAfter ? Number(retryAfter) : null,
    body.errors ?? [],
  );
}
