import { Logger } from '@nestjs/common';
import type { KMSClient } from '@aws-sdk/client-kms';
import { describeKeyContext, KeyContext, KeyProvider, KeyProviderUnavailableError, KeyUnwrapError } from './key-provider.js';

export interface AwsKmsOptions {
  /** A key id, key ARN, alias name or alias ARN (KMS_AWS_KEY_ID). */
  keyId: string;
  /** KMS_AWS_REGION; unset: the SDK's default chain (AWS_REGION, the profile, …). */
  region?: string;
  /** KMS_AWS_ENDPOINT: an http(s) URL (a KMS-compatible local service, or the test suite's fake). */
  endpoint?: string;
}

/** AWS's answers to a ciphertext or encryption context that does not decrypt under the key. */
const UNDECRYPTABLE = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);
/** Answers that say the key or its permissions are wrong: retrying does not help, the operator must act. */
const REFUSALS = new Set([
  'NotFoundException',
  'DisabledException',
  'KMSInvalidStateException',
  'AccessDeniedException',
  'InvalidKeyUsageException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'ExpiredTokenException',
]);

/** Bounded like the gcp provider's calls: 5 s per attempt, 2 retries (3 attempts), then 503. */
const TIMEOUT_MS = 5_000;
const MAX_ATTEMPTS = 3;

/**
 * AWS KMS Encrypt/Decrypt of DEKs. The encryption context names what the DEK belongs to (the project
 * and key version, or the webhook), so a wrapped DEK moved to another project fails to decrypt, and
 * CloudTrail shows which project each call was for. The SDK is loaded on first use, so installs on
 * another provider never load it; region and credentials come from the SDK's default chain.
 */
export class AwsKmsKeyProvider extends KeyProvider {
  readonly name = 'aws';
  readonly masterKeyId: string;
  private readonly logger = new Logger(AwsKmsKeyProvider.name);
  private client?: Promise<{ client: KMSClient; sdk: typeof import('@aws-sdk/client-kms') }>;

  constructor(private readonly options: AwsKmsOptions) {
    super();
    this.masterKeyId = options.keyId;
  }

  async wrap(dek: Buffer, context: KeyContext): Promise<Buffer> {
    const { client, sdk } = await this.getClient();
    try {
      const out = await client.send(new sdk.EncryptCommand({ KeyId: this.options.keyId, Plaintext: dek, EncryptionContext: encryptionContext(context) }));
      return Buffer.from(out.CiphertextBlob!);
    } catch (error) {
      throw this.failure(error, 'Encrypt');
    }
  }

  async unwrap(wrapped: Buffer, context: KeyContext): Promise<Buffer> {
    const { client, sdk } = await this.getClient();
    try {
      // KeyId makes KMS refuse a ciphertext of another key instead of decrypting it with that one.
      const out = await client.send(
        new sdk.DecryptCommand({ KeyId: this.options.keyId, CiphertextBlob: wrapped, EncryptionContext: encryptionContext(context) }),
      );
      return Buffer.from(out.Plaintext!);
    } catch (error) {
      if (UNDECRYPTABLE.has((error as Error).name)) {
        throw new KeyUnwrapError(`${describeKeyContext(context)} does not decrypt with ${this.masterKeyId}`);
      }
      throw this.failure(error, 'Decrypt');
    }
  }

  private failure(error: unknown, operation: string): KeyProviderUnavailableError {
    const name = (error as Error).name;
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    this.logger.error({ error: name, status, message: (error as Error).message }, `AWS KMS ${operation} failed`);
    return new KeyProviderUnavailableError(this.name, REFUSALS.has(name) ? `AWS KMS refused ${operation} with ${this.masterKeyId}: ${name}` : undefined);
  }

  private getClient() {
    this.client ??= (async () => {
      const sdk = await import('@aws-sdk/client-kms');
      const client = new sdk.KMSClient({
        region: this.options.region,
        endpoint: this.options.endpoint,
        maxAttempts: MAX_ATTEMPTS,
        requestHandler: { connectionTimeout: TIMEOUT_MS, requestTimeout: TIMEOUT_MS },
      });
      return { client, sdk };
    })();
    return this.client;
  }
}

/** String pairs, as KMS takes them; logged in CloudTrail, so ids only. */
export function encryptionContext(context: KeyContext): Record<string, string> {
  if ('check' in context) return { purpose: 'secr-key-check' };
  if ('auditKeyId' in context) return { purpose: 'secr-audit-signing-key', auditKeyId: String(context.auditKeyId) };
  if ('webhookId' in context) return { purpose: 'secr-webhook-secret', webhookId: context.webhookId };
  return { purpose: 'secr-project-key', projectId: context.projectId, keyVersion: String(context.version) };
}
