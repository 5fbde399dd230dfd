import { ServiceUnavailableError } from '../../common/errors/domain-error.js';

/** What a wrapped DEK is bound to: unwrapping it under another project or version fails. */
export interface ProjectKeyContext {
  readonly projectId: string;
  readonly version: number;
}

/**
 * A webhook's signing secret, wrapped by the master key itself: it must be readable again to sign
 * deliveries, and a webhook need not belong to a project (so no project DEK can protect it).
 */
export interface WebhookSecretContext {
  readonly webhookId: string;
}

/** What wrapped material is bound to (its AAD): unwrapping it under another context fails. */
export type KeyContext = ProjectKeyContext | WebhookSecretContext;

/** The additional authenticated data of a context; the two kinds never collide (distinct prefixes). */
export function keyContextAad(context: KeyContext): Buffer {
  const aad = 'webhookId' in context ? `secr:whsec:v1:${context.webhookId}` : `secr:dek:v1:${context.projectId}:${context.version}`;
  return Buffer.from(aad, 'utf8');
}

/** Names wrapped material in errors and logs (never the material). */
export function describeKeyContext(context: KeyContext): string {
  return 'webhookId' in context ? `The signing secret of webhook ${context.webhookId}` : `Project key v${context.version} of project ${context.projectId}`;
}

/**
 * The port in front of a KMS (DESIGN.md §4): wraps and unwraps project data-encryption keys (and
 * webhook signing secrets) with a master key that never leaves the provider. Bound to `LocalKeyProvider` or `GcpKmsKeyProvider` by
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
