import { ServiceUnavailableError } from '../../common/errors/domain-error.js';

/** What a wrapped DEK is bound to: unwrapping it under another project or version fails. */
export interface KeyContext {
  readonly projectId: string;
  readonly version: number;
}

/**
 * The port in front of a KMS (DESIGN.md §4): wraps and unwraps project data-encryption keys with a
 * master key that never leaves the provider. Bound to `LocalKeyProvider` or `GcpKmsKeyProvider` by
 * config (`KMS_PROVIDER`).
 */
export abstract class KeyProvider {
  /** `local` | `gcp`, stored beside each wrapped key. */
  abstract readonly name: string;
  /** Identifies the master key (a KMS key name, or a fingerprint of the local key), stored beside each wrapped key. */
  abstract readonly masterKeyId: string;

  abstract wrap(dek: Buffer, context: KeyContext): Promise<Buffer>;
  abstract unwrap(wrapped: Buffer, context: KeyContext): Promise<Buffer>;
}

/** The KMS could not be reached or refused the operation: the request fails, never falls back. */
export class KeyProviderUnavailableError extends ServiceUnavailableError {
  constructor(provider: string) {
    super(`The key management service (${provider}) is unavailable; try again later`);
  }
}

/** A wrapped key that does not unwrap: wrong master key, or tampered key material. */
export class KeyUnwrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyUnwrapError';
  }
}
