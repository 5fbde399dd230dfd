import { ConflictError, ForbiddenError, NotFoundError, ValidationFailedError } from '../../common/errors/domain-error.js';

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

export interface VersionConflict {
  key: string;
  expectedVersion?: number;
  /** 0: the key is not set. */
  currentVersion: number;
}

/** Check-and-set: a key is not at the version the caller expected. Nothing was written. */
export class VersionConflictError extends ConflictError {
  constructor(readonly conflicts: VersionConflict[]) {
    super(
      conflicts.length === 1
        ? `Secret '${conflicts[0].key}' is at version ${conflicts[0].currentVersion}, not ${conflicts[0].expectedVersion}`
        : `Secrets not at the expected versions: ${conflicts.map((c) => `${c.key} (at ${c.currentVersion}, expected ${c.expectedVersion})`).join(', ')}`,
    );
  }

  override get details() {
    return { conflicts: this.conflicts, ...(this.conflicts.length === 1 ? { currentVersion: this.conflicts[0].currentVersion } : {}) };
  }
}

/** A bulk import's precondition: some of its keys changed after the environment version it was based on. */
export class EnvironmentChangedError extends ConflictError {
  constructor(
    since: number,
    readonly environmentVersion: number,
    readonly conflicts: VersionConflict[],
  ) {
    super(`Changed since environment version ${since}: ${conflicts.map((c) => c.key).join(', ')}`);
  }

  override get details() {
    return { conflicts: this.conflicts, environmentVersion: this.environmentVersion };
  }
}

/** A pull's value names a reference the reader may not follow (another environment's tier or a token's scope). Names, never values. */
export class ReferenceForbiddenError extends ForbiddenError {
  constructor(
    readonly chain: string,
    reason: string,
  ) {
    super(`${chain}: ${reason}`);
  }

  override get details() {
    return { reference: this.chain };
  }
}

/** A pull's value holds a reference that cannot be resolved: a missing key or environment, a cycle, or a chain deeper than allowed. */
export class UnresolvedReferenceError extends ConflictError {
  constructor(
    readonly chain: string,
    reason: string,
  ) {
    super(`${chain}: ${reason}`);
  }

  override get details() {
    return { reference: this.chain };
  }
}

/** A write whose values would make a reference cycle, or a chain deeper than allowed. Nothing was written. */
export class InvalidReferencesError extends ValidationFailedError {
  constructor(problems: Array<{ key: string; message: string }>) {
    super(problems.map((p) => ({ field: p.key, message: p.message })));
  }
}
