import dns from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { guardedLookup, preflightUrl, type AddressLookup } from './guarded-lookup.js';
import { hostOf, RefusedTargetError } from './ssrf.js';

export interface BoundedGet {
  url: string;
  /** Loopback, private addresses and plain http allowed (development, tests); metadata endpoints never. */
  allowPrivate: boolean;
  /** Connect to last byte read. */
  timeoutMs: number;
  /** A larger answer fails. */
  maxBytes: number;
  lookup?: AddressLookup;
}

/** Why a fetch failed, in words that name the host only (never a path, a query or the answer). */
export class FetchFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FetchFailedError';
  }
}

/**
 * A GET of a JSON document from a URL someone else chose (an OIDC issuer's discovery document and
 * keys), under the webhooks' SSRF rules: https only (unless `allowPrivate`), every address the
 * connection may use checked, no redirects, no connection reuse, a time-out over the whole exchange
 * and a size cap.
 */
export async function getJson(request: BoundedGet): Promise<unknown> {
  let url: URL;
  try {
    url = preflightUrl(request.url, request.allowPrivate);
  } catch (error) {
    throw new FetchFailedError(error instanceof RefusedTargetError ? `refused: ${error.message}` : 'not a valid URL');
  }
  const host = hostOf(url);
  const body = await new Promise<string>((resolve, reject) => {
    const signal = AbortSignal.timeout(request.timeoutMs);
    const req = (url.protocol === 'https:' ? https : http).request(
      {
        protocol: url.protocol,
        hostname: host,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { accept: 'application/json' },
        agent: false,
        lookup: guardedLookup(request.allowPrivate, request.lookup ?? dns.lookup),
        signal,
      },
      (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          res.destroy();
          return reject(new FetchFailedError(`${host} answered HTTP ${res.statusCode}`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > request.maxBytes) {
            res.destroy();
            return reject(new FetchFailedError(`${host} answered more than ${request.maxBytes} bytes`));
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', () => reject(new FetchFailedError(`${host}: the answer was cut off`)));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof RefusedTargetError) return reject(new FetchFailedError(`refused: ${error.message}`));
      if (signal.aborted) return reject(new FetchFailedError(`${host} did not answer within ${request.timeoutMs} ms`));
      reject(new FetchFailedError(`${host} cannot be reached (${error.code ?? 'network error'})`));
    });
    req.end();
  });
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new FetchFailedError(`${host} did not answer JSON`);
  }
}
