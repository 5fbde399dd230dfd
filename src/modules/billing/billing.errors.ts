import { DomainError } from '../../common/errors/domain-error.js';

export class BillingNotConfiguredError extends DomainError {
  readonly status = 503;
  readonly code = 'billing_not_configured';
  constructor(what = 'Billing is not configured on this server (STRIPE_SECRET_KEY is not set)') {
    super(what);
  }
}

/** Stripe did not answer in time, or answered with an error of its own: nothing was changed on our side. */
export class BillingUnavailableError extends DomainError {
  readonly status = 503;
  readonly code = 'billing_unavailable';
  constructor(stripeErrorType: string) {
    super(`Stripe could not be reached or refused the call (${stripeErrorType}); nothing was changed, try again in a moment`);
  }
}

/** An error thrown by Stripe's SDK (its classes carry their name in `type`), as opposed to one of ours. */
export function stripeErrorType(error: unknown): string | null {
  const type = (error as { type?: unknown } | null)?.type;
  return typeof type === 'string' && type.startsWith('Stripe') ? type : null;
}
