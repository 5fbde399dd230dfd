import { QueryFailedError } from 'typeorm';

/** PostgreSQL's error fields, whether pg raised the error itself or TypeORM wrapped it. */
function pgErrorOf(error: unknown): { code?: unknown; constraint?: unknown } | null {
  return error instanceof QueryFailedError ? (error.driverError as { code?: unknown }) : (error as { code?: unknown } | null);
}

/** True when `error` is PostgreSQL's unique_violation (23505), optionally on the named constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const pgError = pgErrorOf(error);
  return pgError?.code === '23505' && (constraint === undefined || pgError.constraint === constraint);
}

/**
 * True when PostgreSQL refused `error`'s statement for its data: a data exception (class 22) or an
 * integrity constraint violation (class 23). Not for lost connections, timeouts or server errors.
 */
export function isDataError(error: unknown): boolean {
  const code = pgErrorOf(error)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * SQLSTATEs that mean "the database cannot serve this now", not "this request is wrong": the server
 * shutting down or restarting (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now),
 * a lost or refused connection (class 08), a statement or lock time-out (57014 query_canceled, 55P03
 * lock_not_available), no connection slot left (53300 too_many_connections).
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57P04', '57P05', '57014', '55P03', '53300']);

/** Socket-level failures reaching the database (Node's system error codes). */
const UNAVAILABLE_SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * pg and pg-pool report these without a code: a pool acquire time-out ("timeout exceeded when trying
 * to connect"), a connection that ended under a query ("Connection terminated unexpectedly", "…due to
 * connection timeout"), a client query time-out ("Query read timeout"), a client already broken.
 */
const UNAVAILABLE_MESSAGES = [
  /^timeout exceeded when trying to connect$/i,
  /^Connection terminated\b/i,
  /^Query read timeout$/i,
  /^Client has encountered a connection error and is not queryable$/i,
  /^Client was closed and is not queryable$/i,
  /^timeout expired$/i, // pg: connectionTimeoutMillis ran out while connecting
  /^Query runner already released\b/i, // TypeORM: the transaction's connection was lost under it
];

/**
 * True when `error` (a pg error, a TypeORM QueryFailedError around one, or a pg-pool/socket error)
 * means the database is unreachable, stalled or shutting down: the API answers 503 and the client
 * may retry, rather than 500 (a bug).
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 3) return false;
  const e = error as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown; errors?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined && (UNAVAILABLE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code) || UNAVAILABLE_SYSTEM_CODES.has(code))) return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(e.message as string))) return true;
  // TypeORM's QueryFailedError wraps the driver's error; Node's AggregateError (one per address tried) and `cause` chains.
  const inner = [e.driverError, e.cause, ...(Array.isArray(e.errors) ? e.errors : [])];
  return inner.some((candidate) => candidate !== error && isDatabaseUnavailable(candidate, depth + 1));
}
