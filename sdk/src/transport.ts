import { SecrApiError } from './errors.js';

/**
 * What the SDK and the CLI do about two ways a request could reach someone other than the API: a
 * redirect (never followed: it would carry the token, and a write's values, to wherever it points) and
 * a plain-http API URL of another machine (allowed, with a warning, once per origin and process).
 */

/** A 3xx answer as an error: where it led (its origin only: a Location's path or query may hold anything) and what to do. */
export function redirectError(status: number, location: string | null, requestUrl: string | URL): SecrApiError {
  const from = new URL(requestUrl);
  let to: URL | undefined;
  try {
    to = location ? new URL(location, from) : undefined;
  } catch {
    to = undefined;
  }
  const where = !to ? 'another address' : to.origin === from.origin ? `another path of ${from.origin}` : to.origin;
  const fix =
    to && to.origin !== from.origin
      ? `if ${to.origin} is the API's address and you trust it, set the API URL to it`
      : 'check the API URL (its path, and http:// vs https://)';
  return new SecrApiError(
    `The API at ${from.origin} answered ${status}, a redirect to ${where}, which secr does not follow (it would send the token and the request there): ${fix}`,
    status,
    'http_error',
  );
}

/** True for a 3xx status. */
export const isRedirect = (status: number): boolean => status >= 300 && status < 400;

/** `localhost`, `*.localhost`, 127.0.0.0/8 and ::1: where plain http never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(host) || host === '::1' || host === '0:0:0:0:0:0:0:1';
}

const warned = new Set<string>();

/**
 * Says once per origin (and process) that an `http://` API URL of another machine sends the token and
 * the values unencrypted; loopback stays quiet. `emit` defaults to Node's process warning (code
 * SECR_INSECURE_API_URL); the CLI passes its own stderr line. Returns whether it warned now.
 */
export function warnInsecureApiUrl(apiUrl: string, emit?: (message: string) => void): boolean {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' || isLoopbackHost(url.hostname) || warned.has(url.origin)) return false;
  warned.add(url.origin);
  const message = `The API URL ${url.origin} is plain http to another machine: the token and every value cross the network unencrypted; use https://`;
  if (emit) emit(message);
  else if (typeof process !== 'undefined' && typeof process.emitWarning === 'function') process.emitWarning(message, { code: 'SECR_INSECURE_API_URL' });
  return true;
}
