import { Logger } from '@nestjs/common';
import pg from 'pg';
import type { DatabaseTimeouts } from '../config/config.js';
import { safeError } from '../common/logging/safe-error.js';
import { isDatabaseUnavailable } from './pg-errors.js';

/** The message of pg's client-side query time-out (`query_timeout`). */
export const QUERY_TIMEOUT_MESSAGE = 'Query read timeout';

/** Used where no configuration exists (the TypeORM CLI, scripts): the documented defaults. */
export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = Object.freeze({
  statementMs: 5_000,
  lockMs: 3_000,
  idleInTransactionMs: 30_000,
  connectMs: 5_000,
  poolWaitMs: 30_000,
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

/**
 * Logs a connection-level error as safeError describes it (class, SQLSTATE, code, frames): never a
 * message, statement or parameter. Made safe here, not by the app logger's serializer, because this
 * also runs before the app's logger exists (the embedded database's admin connections).
 */
export function logConnectionError(source: string, error: unknown): void {
  logger.warn({ source, failure: safeError(error) }, `${source}: connection error`);
}

/**
 * The pool's handler of an idle connection's error (pg-pool calls it with the pool as `this`). Once the
 * pool is ending (shutdown), an idle connection may still meet the database's own shutdown before its
 * backend has read the goodbye (57P01 under load, when the server stops PostgreSQL right after): that
 * is expected and logged at debug; any other failure of an idle connection is a warning.
 */
export function logPoolConnectionError(this: { ending?: boolean } | undefined, error: unknown): void {
  if (this?.ending) logger.debug({ source: 'pool', failure: safeError(error) }, 'A connection of the closing pool failed');
  else logConnectionError('pool', error);
}

/**
 * pg's Client with an `'error'` listener from its creation on. pg-pool listens to a connection only while
 * it is idle, and TypeORM only while a query runner holds it; a connection held bare between queries
 * (TypeORM's start-up holds one so) whose backend is terminated emits `'error'` to nobody, which kills
 * the process. Here it is logged at debug level (the pool logs an idle one's itself); the connection is
 * unusable from then on, and its holder's next query fails and is handled.
 */
export class ListenedClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', (error) => logger.debug({ failure: safeError(error) }, 'A pooled connection failed'));
  }
}

/**
 * ListenedClient whose connection attempt is bounded by `connectMs` whatever the pool's own bound: pg-pool
 * uses its `connectionTimeoutMillis` both for a request waiting for a free connection and for opening one.
 */
export function clientConnectingWithin(connectMs: number): typeof ListenedClient {
  return class extends ListenedClient {
    constructor(config?: string | pg.ClientConfig) {
      super(typeof config === 'string' ? { connectionString: config, connectionTimeoutMillis: connectMs } : { ...config, connectionTimeoutMillis: connectMs });
    }
  };
}

/** Adds the missing `'error'` listener to a standalone client (a pg.Client without one crashes the process). */
export function guardClient<C extends pg.Client>(client: C, source: string): C {
  client.on('error', (error) => logConnectionError(source, error));
  return client;
}

/** pg's internals that the watchdog reads: the pool's connections and the query each has on the wire. */
interface WatchedClient {
  _getActiveQuery?: () => PendingQuery | null | undefined;
  /** pg-pool drops a connection handed back with this false instead of reusing it. */
  _queryable?: boolean;
  connection?: { stream?: { destroy(): void } };
}

interface PendingQuery {
  callback?: (error: Error) => void;
  handleError?: (error: Error, connection: unknown) => void;
}

/**
 * The client-side query time-out of a pool, at no cost per query: every `queryMs / 4` (at most 1 s)
 * one pass over the pool's connections notes when each connection's running query was first seen, and
 * fails one seen `queryMs` ago with pg's own "Query read timeout" error (a database-unavailable error:
 * 503), then closes its connection, as pg itself does for a pipelined query: what was queued behind
 * the stalled query (a ROLLBACK) fails at once instead of waiting out a time-out of its own, the pool
 * drops the connection, and the server rolls back its transaction. A query so fails between `queryMs`
 * and `queryMs` + one pass after it was sent; the outcome of a COMMIT that fails so is unknown, as
 * with any lost connection. Returns the function that stops the watchdog.
 */
export function watchStalledQueries(pool: pg.Pool, queryMs: number): () => void {
  const clients = () => (pool as unknown as { _clients?: WatchedClient[] })._clients;
  if (!Array.isArray(clients())) {
    logger.warn('pg-pool no longer exposes its connections: the client-side query time-out is off (the server-side time-outs still hold)');
    return () => undefined;
  }
  const firstSeen = new WeakMap<PendingQuery, number>();
  const timer = setInterval(
    () => {
      const now = Date.now();
      for (const client of clients() ?? []) {
        const query = client._getActiveQuery?.();
        if (!query) continue;
        const seen = firstSeen.get(query);
        if (seen === undefined) firstSeen.set(query, now);
        else if (now - seen >= queryMs) failStalled(client, query);
      }
    },
    Math.max(50, Math.min(1_000, Math.floor(queryMs / 4))),
  );
  timer.unref();
  return () => clearInterval(timer);
}

function failStalled(client: WatchedClient, query: PendingQuery): void {
  // Unusable before the caller hears of it: the caller hands the connection back at once, and the pool
  // must drop it then, not lend it to the next request before its end is noticed.
  client._queryable = false;
  client.connection?.stream?.destroy();
  const { callback } = query;
  query.callback = () => undefined; // the connection's end is not reported to this query again
  const error = new Error(QUERY_TIMEOUT_MESSAGE);
  if (callback) callback(error);
  else query.handleError?.(error, client.connection);
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
      const { sqlstate, code, type } = safeError(error);
      onRetry?.(`${what} failed (${sqlstate ?? code ?? type}): the database is unavailable; trying again in ${wait} ms`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
