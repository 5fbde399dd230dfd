import { ServiceUnavailableError } from '../../common/errors/domain-error.js';

export class MailDeliveryError extends ServiceUnavailableError {
  constructor() {
    super('The mail could not be sent; nothing was changed; try again later');
  }
}
