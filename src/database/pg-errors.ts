import { QueryFailedError } from 'typeorm';

/** True when `error` is PostgreSQL's unique_violation (23505), optionally on the named constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const driverError = error instanceof QueryFailedError ? (error.driverError as { code?: string; constraint?: string }) : undefined;
  const pgError = driverError ?? (error as { code?: string; constraint?: string } | null);
  return pgError?.code === '23505' && (constraint === undefined || pgError.constraint === constraint);
}

/**
 * True when PostgreSQL refused `error`'s statement for its data: a data exception (class 22) or an
 * integrity constraint violation (class 23). Not for lost connections, timeouts or server errors.
 */
export function isDataError(error: unknown): boolean {
  const driverError = error instanceof QueryFailedError ? (error.driverError as { code?: string }) : undefined;
  const code = (driverError ?? (error as { code?: unknown } | null))?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
