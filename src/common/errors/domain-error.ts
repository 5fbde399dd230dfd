/**
 * Services throw these, never HttpException. `HttpErrorFilter` maps them to the error shape of
 * DESIGN.md §6. Messages are shown to API users: they must never contain a secret value, password or token.
 */
export type ErrorCode =
  | 'bad_request'
  | 'validation_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'plan_limit_exceeded'
  | 'rate_limited'
  | 'slow_down'
  | 'service_unavailable'
  | 'billing_not_configured'
  | 'billing_unavailable'
  | 'internal_error';

export interface FieldError {
  field: string;
  message: string;
}

export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly code: ErrorCode;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }

  /** Fields added to the error body (names and numbers only: never a value). */
  get details(): Record<string, unknown> | undefined {
    return undefined;
  }
}

export class BadRequestError extends DomainError {
  readonly status = 400;
  readonly code = 'bad_request';
}

export class ValidationFailedError extends DomainError {
  readonly status = 400;
  readonly code = 'validation_failed';
  constructor(readonly errors: FieldError[]) {
    super(ValidationFailedError.summary(errors));
  }

  private static summary(errors: FieldError[]): string {
    const fields = [...new Set(errors.map((e) => e.field))];
    return fields.length === 1 ? errors[0].message : `Invalid fields: ${fields.join(', ')}`;
  }
}

export class UnauthorizedError extends DomainError {
  readonly status = 401;
  readonly code = 'unauthorized';
  constructor(message = 'Authentication required') {
    super(message);
  }
}

export class ForbiddenError extends DomainError {
  readonly status = 403;
  readonly code = 'forbidden';
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  readonly code = 'not_found';
}

export class ConflictError extends DomainError {
  readonly status = 409;
  readonly code = 'conflict';
}

export class RateLimitedError extends DomainError {
  readonly status = 429;
  readonly code: 'rate_limited' | 'slow_down' = 'rate_limited';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export class ServiceUnavailableError extends DomainError {
  readonly status = 503;
  readonly code = 'service_unavailable';
}
