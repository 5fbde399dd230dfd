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

/** Network errors of a connection to the database: refused, reset, timed out, host unreachable. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Messages pg and pg-pool give errors that have no code: lost or timed-out connections. */
const UNAVAILABLE_MESSAGES = [
  'Query read timeout', // pg's client-side query_timeout
  'timeout exceeded when trying to connect', // pg-pool: no free connection in time
  'Connection terminated', // "… unexpectedly", "… due to connection timeout"
  'timeout expired', // pg: connectionTimeoutMillis while connecting
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Query runner already released', // TypeORM: the transaction's connection was lost under it
];

/**
 * True when `error` says the database cannot be used right now (the request may succeed later), as
 * opposed to a bug or a bad statement: a connection refused, reset or timed out, no free pooled
 * connection in time, a statement cancelled by statement_timeout (57014) or lock_timeout (55P03), a
 * server shutting down or restarting (57P01–57P05), any connection exception (class 08), or pg's
 * client-side query time-out. The API answers these with 503 service_unavailable.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 3) return false;
  const code = pgErrorOf(error)?.code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || /^57P0[1-5]$/.test(code) || code === '57014' || code === '55P03' || code === '53300') return true;
    if (NETWORK_CODES.has(code)) return true;
  }
  const driverError = error instanceof QueryFailedError ? (error.driverError as unknown) : undefined;
  const message = (driverError as { message?: unknown } | undefined)?.message ?? (error as { message?: unknown }).message;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) return true;
  // pg-pool wraps the cause of a failed connect; AggregateError holds one per address tried.
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  if (cause !== undefined && isDatabaseUnavailable(cause, depth + 1)) return true;
  return Array.isArray(errors) && errors.some((e) => isDatabaseUnavailable(e, depth + 1));
}
