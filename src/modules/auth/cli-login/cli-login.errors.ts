import { ConflictError, NotFoundError, RateLimitedError } from '../../../common/errors/domain-error.js';

export class CliLoginNotFoundError extends NotFoundError {
  constructor() {
    super('No sign-in request is waiting with this code: it may have expired (10 minutes) or been answered already');
  }
}

export class CliLoginDecidedError extends ConflictError {
  constructor(status: string) {
    super(`This sign-in request was already ${status}`);
  }
}

export class UnknownCliLoginError extends NotFoundError {
  constructor() {
    super('Unknown sign-in request');
  }
}

/** RFC 8628's `slow_down`, as a 429 with Retry-After. */
export class SlowDownError extends RateLimitedError {
  override readonly code = 'slow_down' as const;
  constructor(retryAfterSeconds: number) {
    super('Polling too fast: wait for Retry-After seconds', retryAfterSeconds);
  }
}
