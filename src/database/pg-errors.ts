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
