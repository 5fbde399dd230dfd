import { DEFAULT_API_URL, DEFAULT_TIMEOUT_MS } from './client.js';
import { SecrApiError } from './errors.js';
import { isRedirect, redirectError, warnInsecureApiUrl } from './transport.js';

/** What kind of write a change was. */
export type ChangeType = 'set' | 'import' | 'rollback' | 'promotion' | 'restore' | 'delete';

/**
 * An event of an environment's change stream. Every event's `id` is a position in the environment's
 * change log, and the environment's version at that point (`ifEnvironmentVersion` of a bulk import).
 * No event carries a value.
 */
export type ChangeStreamEvent =
  /** The stream starts at this position (no `lastEventId` was given). */
  | { event: 'ready'; id: string; seq: string }
  /** A committed change: each key's new version, or null when it was deleted. */
  | { event: 'change'; id: string; seq: string; type: ChangeType; changes: Array<{ key: string; version: number | null }>; at: string }
  /** Changes were missed that cannot be replayed (too many, pruned from the log, unknown id): pull again. */
  | { event: 'resync'; id: string; seq: string; reason: string }
  /** The server ended the stream for good (credential revoked, member removed, role changed); the iterator ends after it. */
  | { event: 'closed'; reason: string };

export interface EventsOptions {
  /** Resume after this event id (as sent back by a reconnect): the changes after it come first. */
  lastEventId?: string;
  /** Ends the iteration (and closes the connection) when aborted. */
  signal?: AbortSignal;
  /** Longest silence (no event, no heartbeat) before the connection is dropped and reopened; default 60000 ms. */
  idleTimeoutMs?: number;
  /** Reconnect back-off, doubled per failed attempt up to `maxDelayMs`; defaults 500 and 30000 ms. */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
}

export interface StreamTarget {
  token: string;
  apiUrl?: string;
  /** Milliseconds to wait for the stream's response headers (the client's `timeout`). */
  timeout?: number;
  headers?: Record<string, string>;
}

/** Answers that will not change by trying again: thrown, not retried. */
const FATAL = new Set([400, 401, 403, 404]);

/**
 * Follows `GET /v1/secrets/:org/:project/:env/events` (Server-Sent Events). Reconnects after a dropped
 * connection, a silent one (idle time-out), a 429 or a 5xx, with back-off and `Last-Event-ID`, so no
 * committed change is missed (or a `resync` says to pull again). A redirect (not followed), 400, 401, 403 or 404 throws
 * SecrApiError; a `closed` event is yielded and ends the iteration; an abort ends it quietly. Leaving
 * the loop (`break`) closes the connection.
 */
export async function* followEvents(
  target: StreamTarget,
  org: string,
  project: string,
  env: string,
  options: EventsOptions = {},
): AsyncGenerator<ChangeStreamEvent, void, undefined> {
  const { signal } = options;
  const idleMs = options.idleTimeoutMs ?? 60_000;
  const minDelay = options.reconnect?.minDelayMs ?? 500;
  const maxDelay = options.reconnect?.maxDelayMs ?? 30_000;
  const connectMs = target.timeout ?? DEFAULT_TIMEOUT_MS;
  const base = (target.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, '');
  warnInsecureApiUrl(base);
  const url = `${base}/v1/secrets/${[org, project, env].map(encodeURIComponent).join('/')}/events`;
  let lastEventId = options.lastEventId;
  let delay = minDelay;

  while (!signal?.aborted) {
    const connection = new AbortController();
    const abort = () => connection.abort();
    signal?.addEventListener('abort', abort, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => connection.abort(), ms);
    };
    let wait = delay;
    try {
      deadline(connectMs);
      const headers: Record<string, string> = { ...target.headers, authorization: `Bearer ${target.token}`, accept: 'text/event-stream' };
      if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
      // Not followed: a redirect would carry the token elsewhere, on every reconnect.
      const res = await fetch(url, { headers, signal: connection.signal, redirect: 'manual' });
      if (isRedirect(res.status)) throw redirectError(res.status, res.headers.get('location'), url);
      if (res.status !== 200 || !res.body) {
        const body = (await res.json().catch(() => ({}))) as { message?: string; code?: string; requestId?: string };
        if (FATAL.has(res.status)) {
          throw new SecrApiError(body.message ?? `HTTP ${res.status}`, res.status, body.code ?? 'http_error', { requestId: body.requestId });
        }
        const retryAfter = Number(res.headers.get('retry-after'));
        if (retryAfter > 0) wait = Math.max(wait, Math.min(retryAfter * 1000, maxDelay));
      } else {
        delay = minDelay;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          deadline(idleMs);
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\r\n?/g, '\n');
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const parsed = parseBlock(block);
            if (parsed.retry !== undefined) delay = Math.min(Math.max(parsed.retry, minDelay), maxDelay);
            if (parsed.id !== undefined) lastEventId = parsed.id;
            const event = toEvent(parsed);
            if (!event) continue;
            yield event;
            if (event.event === 'closed') return;
          }
        }
        wait = delay;
      }
    } catch (error) {
      if (error instanceof SecrApiError) throw error;
      if (signal?.aborted) return;
      // A network failure, a dropped or silent connection: reconnect.
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      connection.abort();
    }
    await pause(wait, signal);
    delay = Math.min(Math.max(wait, delay) * 2, maxDelay);
  }
}

interface Block {
  id?: string;
  event: string;
  data: string;
  retry?: number;
}

/** One SSE event block (lines up to a blank line); comment lines (heartbeats) are skipped. */
function parseBlock(block: string): Block {
  const out: Block = { event: 'message', data: '' };
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') out.id = value;
    else if (field === 'event') out.event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) out.retry = Number(value);
  }
  out.data = data.join('\n');
  return out;
}

function toEvent(block: Block): ChangeStreamEvent | null {
  if (!block.data) return null;
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(block.data) as Record<string, unknown>;
  } catch {
    return null;
  }
  const id = block.id ?? '';
  switch (block.event) {
    case 'ready':
      return { event: 'ready', id, seq: String(data.seq) };
    case 'change':
      return {
        event: 'change',
        id,
        seq: String(data.seq),
        type: data.type as ChangeType,
        changes: data.changes as Array<{ key: string; version: number | null }>,
        at: String(data.at),
      };
    case 'resync':
      return { event: 'resync', id, seq: String(data.seq), reason: String(data.reason) };
    case 'closed':
      return { event: 'closed', reason: String(data.reason) };
    default:
      return null; // an event this SDK does not know yet
  }
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
