import { ConflictError, ForbiddenError, NotFoundError, RateLimitedError, UnauthorizedError } from '../../common/errors/domain-error.js';

export class InvalidCredentialsError extends UnauthorizedError {
  constructor() {
    super('Invalid email or password');
  }
}

export class EmailTakenError extends ConflictError {
  constructor() {
    super('An account with this email already exists');
  }
}

export class TooManyLoginAttemptsError extends RateLimitedError {
  constructor(retryAfterSeconds: number) {
    super('Too many sign-in attempts; try again later', retryAfterSeconds);
  }
}

export class AccountLockedError extends RateLimitedError {
  constructor(retryAfterSeconds: number) {
    super('Too many failed sign-in attempts: the account is locked for a while; try again later', retryAfterSeconds);
  }
}

export class TokenNotFoundError extends NotFoundError {
  constructor(id: string) {
    super(`Token '${id}' not found`);
  }
}

export class TokenScopeError extends ForbiddenError {}
