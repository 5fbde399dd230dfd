import { DomainError } from '../../common/errors/domain-error.js';

export class BillingNotConfiguredError extends DomainError {
  readonly status = 503;
  readonly code = 'billing_not_configured';
  constructor(what = 'Billing is not configured on this server (STRIPE_SECRET_KEY is not set)') {
    super(what);
  }
}
