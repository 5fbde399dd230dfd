import { warnInsecureApiUrl } from '@secr/sdk';
import { usageError } from './errors.js';

/** An API URL needs its scheme: `localhost:8080` would otherwise parse as scheme `localhost:`. */
export function checkApiUrl(url: string, source: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.host) {
    const fix = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? 'https://… or http://…' : `http://${url} or https://${url}`;
    throw usageError(`${source} '${url}' is not an http(s) URL: use ${fix}`);
  }
  return url;
}

/**
 * The API URL a command will call, said once on stderr when it is plain http to another machine (the
 * token and the values would cross the network unencrypted); loopback (local servers, tests) is quiet.
 */
export function noteApiUrl(url: string): string {
  warnInsecureApiUrl(url, (message) => void process.stderr.write(`secr: warning: ${message}\n`));
  return url;
}

/** `--timeout`, else `$SECR_TIMEOUT` (seconds), in milliseconds; undefined = the SDK's default. */
export function timeoutMs(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const [value, source] = flag !== undefined ? [flag, '--timeout'] : [env.SECR_TIMEOUT, 'SECR_TIMEOUT'];
  if (value === undefined || value === '') return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw usageError(`${source} must be a number of seconds greater than 0 (got '${value}')`);
  return Math.round(seconds * 1000);
}

/** The API's aliases of the default environments, spelled out for messages (the SDK's vocabulary alone: `secr run` loads nothing else of the SDK). */
export { canonicalEnvironment as canonicalEnv } from '@secr/sdk/vocabulary';
