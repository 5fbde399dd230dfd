import { Logger } from '@nestjs/common';
import type pg from 'pg';
import type { DatabaseTimeouts } from '../config/config.js';
import { isDatabaseUnavailable } from './pg-errors.js';

/** The message of pg's client-side query time-out (`query_timeout`). */
export const QUERY_TIMEOUT_MESSAGE = 'Query read timeout';

/** Used where no configuration exists (the TypeORM CLI, scripts): the documented defaults. */
export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = Object.freeze({
  statementMs: 5_000,
  lockMs: 3_000,
  idleInTransactionMs: 30_000,
  connectMs: 5_000,
  queryMs: 6_000,
});

/**
 * pg connection/pool settings that bound every wait on the database: PostgreSQL's own statement,
 * lock and idle-in-transaction time-outs (sent with the start-up packet, so they hold on every
 * connection from its first statement) and the time to open a connection or wait for a pooled one.
 *
 * The client-side limit for a server that stopped answering altogether (`queryMs`) is not here: pg's
 * `query_timeout` arms a timer per query, which on the pull path cost ~20% of throughput and ~150 MB
 * of RSS (bench:pull). The app's pool uses `watchStalledQueries` instead; a pool off the hot path may
 * add `query_timeout: t.queryMs` itself.
 */
export function pgTimeoutOptions(t: DatabaseTimeouts): pg.PoolConfig {
  return {
    connectionTimeoutMillis: t.connectMs,
    // pg sends these only when non-zero: 0 leaves the server's setting.
    statement_timeout: t.statementMs,
    lock_timeout: t.lockMs,
    idle_in_transaction_session_timeout: t.idleInTransactionMs,
    // Dead peers are noticed by the kernel too, not only by our time-outs.
    keepAlive: true,
  };
}

const logger = new Logger('Database');
const GUARDED = Symbol('secr.guardedPool');

/** Logs a connection-level error: its message and SQLSTATE, never a statement or its parameters. */
export function logConnectionError(source: string, error: unknown): void {
  const { message, code } = (error ?? {}) as { message?: unknown; code?: unknown };
  logger.warn({ source, code: typeof code === 'string' ? code : undefined }, `${source}: connection error: ${String(message ?? error)}`);
}

/**
 * Makes a pool safe to lose connections: an idle connection that fails (the backend was terminated,
 * the server went away) is logged and dropped, and the pool opens a new one on demand; a connection
 * handed back while a query of it is still unanswered (the client-side query time-out fired) is
 * closed and dropped instead of going back into the pool, where the next request would queue behind
 * a query that may never answer.
 */
export function guardPool(pool: pg.Pool, source: string): pg.Pool {
  pool.on('error', (error) => logConnectionError(source, error));
  return guardPoolReleases(pool);
}

/** The release half of guardPool, for a pool that already has an `'error'` listener (TypeORM's). */
export function guardPoolReleases(pool: pg.Pool): pg.Pool {
  if ((pool as { [GUARDED]?: boolean })[GUARDED]) return pool;
  (pool as { [GUARDED]?: boolean })[GUARDED] = true;
  pool.on('release', (error: Error | undefined, client: pg.PoolClient) => {
    if (!error && hasUnansweredQuery(client)) void client.end().catch(() => undefined); // ends it now: the pool removes it
  });
  return pool;
}

/** Adds the missing `'error'` listener to a standalone client (a pg.Client without one crashes the process). */
export function guardClient<C extends pg.Client>(client: C, source: string): C {
  client.on('error', (error) => logConnectionError(source, error));
  return client;
}

/** pg's internals that the guards read: the query on the wire and those queued behind it. */
interface ClientQueries {
  _getActiveQuery?: () => PendingQuery | null | undefined;
  _queryQueue?: PendingQuery[];
}

interface PendingQuery {
  callback?: (error: Error) => void;
  handleError?: (error: Error, connection: unknown) => void;
}

function hasUnansweredQuery(client: pg.PoolClient): boolean {
  const internal = client as unknown as ClientQueries;
  return Boolean(internal._getActiveQuery?.()) || (internal._queryQueue?.length ?? 0) > 0;
}

/**
 * The client-side query time-out of a pool, at no cost per query: every `queryMs / 4` (at most 1 s)
 * one pass over the pool's connections notes when each running or queued query was first seen, and
 * fails one seen `queryMs` ago with pg's own "Query read timeout" error (a database-unavailable error:
 * 503). Its connection is then closed when it is handed back (guardPoolReleases). A query so fails
 * between `queryMs` and `queryMs` + one pass after it started. Returns the function that stops it.
 */
export function watchStalledQueries(pool: pg.Pool, queryMs: number): () => void {
  const firstSeen = new WeakMap<PendingQuery, number>();
  const failed = new WeakSet<PendingQuery>();
  const timer = setInterval(
    () => {
      const now = Date.now();
      for (const client of (pool as unknown as { _clients?: ClientQueries[] })._clients ?? []) {
        const active = client._getActiveQuery?.();
        for (const query of active ? [active, ...(client._queryQueue ?? [])] : (client._queryQueue ?? [])) {
          const seen = firstSeen.get(query);
          if (seen === undefined) firstSeen.set(query, now);
          else if (now - seen >= queryMs && !failed.has(query)) {
            failed.add(query);
            failQuery(client, query);
          }
        }
      }
    },
    Math.max(50, Math.min(1_000, Math.floor(queryMs / 4))),
  );
  timer.unref();
  return () => clearInterval(timer);
}

/** What pg's own `query_timeout` does to a query: out of the queue, its caller told, later answers ignored. */
function failQuery(client: ClientQueries, query: PendingQuery): void {
  const queued = client._queryQueue?.indexOf(query) ?? -1;
  if (queued >= 0) client._queryQueue?.splice(queued, 1);
  const error = new Error(QUERY_TIMEOUT_MESSAGE);
  const { callback } = query;
  query.callback = () => undefined;
  if (callback) callback(error);
  else query.handleError?.(error, (client as { connection?: unknown }).connection);
}

/**
 * Runs a start-up step again while it fails because the database is unavailable for a moment (a
 * connection terminated, a restart, a refused connect): up to `attempts` tries, `delayMs` × 2^n apart
 * (at most 5 s). Any other error, and the last one, is thrown.
 */
export async function retryWhileUnavailable<T>(
  what: string,
  step: () => Promise<T>,
  { attempts = 6, delayMs = 500, onRetry }: { attempts?: number; delayMs?: number; onRetry?: (message: string) => void } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (attempt >= attempts || !isDatabaseUnavailable(error)) throw error;
      const wait = Math.min(delayMs * 2 ** (attempt - 1), 5_000);
      const { code, message } = error as { code?: unknown; message?: unknown };
      onRetry?.(`${what} failed (${typeof code === 'string' ? code : String(message)}): the database is unavailable; trying again in ${wait} ms`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
