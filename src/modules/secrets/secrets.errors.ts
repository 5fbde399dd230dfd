import { NotFoundError, ValidationFailedError } from '../../common/errors/domain-error.js';

export class SecretNotFoundError extends NotFoundError {
  constructor(key: string) {
    super(`Secret '${key}' not found`);
  }
}

export class SecretsNotFoundError extends NotFoundError {
  constructor(readonly keys: string[]) {
    super(`Secrets not found: ${keys.join(', ')}`);
  }
}

export class SecretVersionNotFoundError extends NotFoundError {
  constructor(key: string, version: number) {
    super(`Secret '${key}' has no version ${version}`);
  }
}

export class DuplicateKeysError extends ValidationFailedError {
  constructor(keys: string[]) {
    super([{ field: 'secrets', message: `Keys appear more than once: ${keys.join(', ')}` }]);
  }
}
