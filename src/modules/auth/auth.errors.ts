import { BadRequestError, ConflictError, ForbiddenError, NotFoundError, RateLimitedError, UnauthorizedError } from '../../common/errors/domain-error.js';

export class InvalidCredentialsError extends UnauthorizedError {
  constructor() {
    super('Invalid email or password');
  }
}

export class TooManyLoginAttemptsError extends RateLimitedError {
  constructor(retryAfterSeconds: number) {
    super('Too many sign-in attempts; try again later', retryAfterSeconds);
  }
}

export class TooManyRegistrationsError extends RateLimitedError {
  constructor(retryAfterSeconds: number) {
    super('Too many sign-ups; try again later', retryAfterSeconds);
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

/** One message for unknown, used, expired and superseded links: none says more than the others. */
export class InvalidEmailLinkError extends BadRequestError {
  constructor() {
    super('This link is invalid, has expired or was already used; ask for a new one');
  }
}

export class EmailAlreadyVerifiedError extends ConflictError {
  constructor() {
    super('Your email address is already verified');
  }
}

export class TooManyMailRequestsError extends RateLimitedError {
  constructor(retryAfterSeconds: number) {
    super('Too many mails requested; try again later', retryAfterSeconds);
  }
}
