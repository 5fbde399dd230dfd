import { ForbiddenError, NotFoundError, ValidationFailedError } from '../../common/errors/domain-error.js';

export class WebhookNotFoundError extends NotFoundError {
  constructor(id: string) {
    super(`Webhook '${id}' not found`);
  }
}

/** A URL the SSRF rules refuse, or one that is not https; the message says why (never the path or query). */
export class WebhookUrlRefusedError extends ValidationFailedError {
  constructor(reason: string) {
    super([{ field: 'url', message: reason }]);
  }
}

/** Webhooks see every project of the org: a token narrowed to a project or environments may not manage them. */
export class WebhookTokenScopeError extends ForbiddenError {
  constructor() {
    super('Webhooks are managed org-wide: this token is scoped to a project or to environments');
  }
}
