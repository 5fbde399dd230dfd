import { NotFoundError, ValidationFailedError } from '../../common/errors/domain-error.js';

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
