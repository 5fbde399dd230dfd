import dns from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { guardedLookup, preflightUrl, type AddressLookup } from '../../common/net/guarded-lookup.js';
import { hostOf, RefusedTargetError } from '../../common/net/ssrf.js';

/** How much of a receiver's answer the delivery log keeps. */
export const RESPONSE_SNIPPET_BYTES = 1024;

export interface OutgoingDelivery {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  allowPrivate: boolean;
  /** Aborts the attempt (the job queue shutting down, or the job's claim lost). */
  signal?: AbortSignal;
  /** Name resolution (dns.lookup); replaceable so tests can play a DNS answer that changed. */
  lookup?: AddressLookup;
}

export type { AddressLookup };

export interface AttemptResult {
  /** 2xx. */
  delivered: boolean;
  /** Worth another attempt: a network error, a timeout, a 5xx. Never a 4xx, a redirect or a refused target. */
  retryable: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  /** The first RESPONSE_SNIPPET_BYTES of the answer, as text. */
  responseBody: string | null;
}

/**
 * One delivery attempt: a POST of the body, with a timeout covering connect to last byte read.
 * The SSRF rules apply to the addresses actually connected to: a host name is resolved by a lookup
 * that refuses the connection when any of its addresses is not allowed, so DNS that changed after the
 * webhook was saved (or answers differently now) cannot redirect a delivery inside the network.
 * Redirects are not followed (a 3xx is a failure), and no connection is reused.
 */
export async function sendDelivery(delivery: OutgoingDelivery): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let url: URL;
  try {
    url = preflightUrl(delivery.url, delivery.allowPrivate);
  } catch (error) {
    return failure(error instanceof RefusedTargetError ? `Refused: ${error.message}` : 'Invalid URL', false, elapsed());
  }
  return post(url, delivery, elapsed);
}

function post(url: URL, delivery: OutgoingDelivery, elapsed: () => number): Promise<AttemptResult> {
  const timeout = AbortSignal.timeout(delivery.timeoutMs);
  const signal = delivery.signal ? AbortSignal.any([timeout, delivery.signal]) : timeout;
  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const settle = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const request = (url.protocol === 'https:' ? https : http).request(
      {
        protocol: url.protocol,
        hostname: hostOf(url),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { ...delivery.headers, 'content-length': String(Buffer.byteLength(delivery.body)) },
        agent: false,
        lookup: guardedLookup(delivery.allowPrivate, delivery.lookup ?? dns.lookup),
        signal,
      },
      (response) => readSnippet(response, (snippet) => settle(answered(response.statusCode ?? 0, snippet, elapsed()))),
    );
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof RefusedTargetError) return settle(failure(`Refused: ${error.message}`, false, elapsed()));
      if (timeout.aborted) return settle(failure(`Timed out after ${delivery.timeoutMs} ms`, true, elapsed()));
      if (signal.aborted) return settle(failure('Interrupted: the server stopped while sending', true, elapsed()));
      settle(failure(networkError(error), true, elapsed()));
    });
    request.end(delivery.body);
  });
}

function answered(statusCode: number, snippet: string, durationMs: number): AttemptResult {
  const delivered = statusCode >= 200 && statusCode < 300;
  return {
    delivered,
    retryable: statusCode >= 500,
    statusCode,
    durationMs,
    error: delivered ? null : `HTTP ${statusCode}`,
    responseBody: snippet,
  };
}

function failure(error: string, retryable: boolean, durationMs: number): AttemptResult {
  return { delivered: false, retryable, statusCode: null, durationMs, error, responseBody: null };
}

/** Reads at most RESPONSE_SNIPPET_BYTES, then drops the connection; calls back once, whatever happens. */
function readSnippet(response: IncomingMessage, done: (snippet: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    // PostgreSQL text cannot hold NUL; a binary answer is kept as what it decodes to, bounded.
    done(Buffer.concat(chunks).subarray(0, RESPONSE_SNIPPET_BYTES).toString('utf8').replaceAll('\u0000', ''));
    response.destroy();
  };
  response.on('data', (chunk: Buffer) => {
    if (size < RESPONSE_SNIPPET_BYTES) chunks.push(chunk);
    size += chunk.length;
    if (size >= RESPONSE_SNIPPET_BYTES) finish();
  });
  response.on('end', finish);
  response.on('close', finish);
  response.on('error', finish);
}

/** Node's network error messages name the address and port, never the URL's path or query. */
function networkError(error: NodeJS.ErrnoException): string {
  const message = error.message || 'Network error';
  return error.code && !message.includes(error.code) ? `${error.code}: ${message}` : message;
}
