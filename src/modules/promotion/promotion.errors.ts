import { BadRequestError } from '../../common/errors/domain-error.js';

export class SameEnvironmentError extends BadRequestError {
  constructor() {
    super('Source and target environments are the same');
  }
}

export class KeysNotInSourceError extends BadRequestError {
  constructor(
    readonly keys: string[],
    env: string,
  ) {
    super(`Not set in '${env}': ${keys.join(', ')}`);
  }
}
