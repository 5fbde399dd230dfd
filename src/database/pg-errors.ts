import { QueryFailedError } from 'typeorm';

/** True when `error` is PostgreSQL's unique_violation (23505), optionally on the named constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const driverError = error instanceof QueryFailedError ? (error.driverError as { code?: string; constraint?: string }) : undefined;
  const pgError = driverError ?? (error as { code?: string; constraint?: string } | null);
  return pgError?.code === '23505' && (constraint === undefined || pgError.constraint === constraint);
}
