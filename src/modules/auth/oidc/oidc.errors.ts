import { ConflictError, NotFoundError, UnauthorizedError, ValidationFailedError } from '../../../common/errors/domain-error.js';

export class OidcTrustNotFoundError extends NotFoundError {
  constructor(id: string) {
    super(`Trust relationship '${id}' not found`);
  }
}

export class OidcTrustNameTakenError extends ConflictError {
  constructor(name: string) {
    super(`A trust relationship named '${name}' already exists in this organization`);
  }
}

export class OidcIssuerError extends ValidationFailedError {
  constructor(message: string) {
    super([{ field: 'issuer', message }]);
  }
}

/** Which check of an exchange failed; each is a 401 that names it (never the presented token). */
export type OidcCheck =
  | 'trust'
  | 'malformed'
  | 'algorithm'
  | 'issuer_unreachable'
  | 'unknown_key'
  | 'signature'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_at'
  | 'condition'
  | 'creator';

export class OidcExchangeError extends UnauthorizedError {
  constructor(
    readonly check: OidcCheck,
    message: string,
  ) {
    super(`OIDC token refused (${check}): ${message}`);
  }
}
