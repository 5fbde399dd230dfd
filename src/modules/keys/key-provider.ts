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

/** The throw-away material of the start-up key check (key-check.ts): wrapped and unwrapped once, never stored. */
export interface KeyCheckContext {
  readonly check: true;
}

/** The key that signs audit checkpoints (HMAC), wrapped by the master key: one per `auditKeyId`. */
export interface AuditSigningKeyContext {
  readonly auditKeyId: number;
}

/** What wrapped material is bound to (its AAD): unwrapping it under another context fails. */
export type KeyContext = ProjectKeyContext | WebhookSecretContext | KeyCheckContext | AuditSigningKeyContext;

/** The additional authenticated data of a context; the kinds never collide (distinct prefixes). */
export function keyContextAad(context: KeyContext): Buffer {
  const aad =
    'check' in context
      ? 'secr:check:v1'
      : 'auditKeyId' in context
        ? `secr:audit:v1:${context.auditKeyId}`
        : 'webhookId' in context
          ? `secr:whsec:v1:${context.webhookId}`
          : `secr:dek:v1:${context.projectId}:${context.version}`;
  return Buffer.from(aad, 'utf8');
}

/** Names wrapped material in errors and logs (never the material). */
export function describeKeyContext(context: KeyContext): string {
  if ('check' in context) return 'The start-up key check';
  if ('auditKeyId' in context) return `Audit signing key ${context.auditKeyId}`;
  return 'webhookId' in context ? `The signing secret of webhook ${context.webhookId}` : `Project key v${context.version} of project ${context.projectId}`;
}

/**
 * The port in front of a KMS (DESIGN.md §4): wraps and unwraps project data-encryption keys (and
 * webhook signing secrets) with a master key that never leaves the provider. `KMS_PROVIDER` picks the one
 * that wraps new keys: `LocalKeyProvider`, `GcpKmsKeyProvider`, `AwsKmsKeyProvider` or `AzureKeyVaultKeyProvider`
 * (key-providers.ts; the others configured only unwrap, during a move between providers).
 */
export abstract class KeyProvider {
  /** `local` | `gcp` | `aws` | `azure`, stored beside each wrapped key. */
  abstract readonly name: string;
  /** Identifies the master key (a KMS key name, or a fingerprint of the local key), stored beside each wrapped key. */
  abstract readonly masterKeyId: string;

  abstract wrap(dek: Buffer, context: KeyContext): Promise<Buffer>;
  abstract unwrap(wrapped: Buffer, context: KeyContext): Promise<Buffer>;
}

/**
 * The KMS could not be reached or refused the operation: the request fails, never falls back. `refusal`
 * is set when the KMS answered and said no (key not found, disabled, access denied): a configuration
 * problem that retrying does not fix. It is logged and reported by /health/ready, never sent to clients.
 */
export class KeyProviderUnavailableError extends ServiceUnavailableError {
  constructor(
    provider: string,
    readonly refusal?: string,
  ) {
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
