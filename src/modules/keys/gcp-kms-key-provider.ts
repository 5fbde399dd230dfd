import { Logger } from '@nestjs/common';
import type { KeyManagementServiceClient } from '@google-cloud/kms';
import { describeKeyContext, KeyContext, keyContextAad, KeyProvider, KeyProviderUnavailableError, KeyUnwrapError } from './key-provider.js';

export interface GcpKmsOptions {
  /** projects/…/locations/…/keyRings/…/cryptoKeys/… */
  keyName: string;
  /** host[:port]; a loopback host is spoken to without TLS (emulators and the test suite's fake KMS). */
  endpoint?: string;
}

/** gRPC INVALID_ARGUMENT: Cloud KMS's answer to a ciphertext or AAD that does not decrypt. */
const INVALID_ARGUMENT = 3;
/** NOT_FOUND, PERMISSION_DENIED, FAILED_PRECONDITION (key disabled), UNAUTHENTICATED: the key or its permissions are wrong. */
const REFUSALS = new Set([5, 7, 9, 16]);

/**
 * Per-call limits. The client's defaults retry UNAVAILABLE for up to 10 minutes, so an unreachable KMS
 * would hang requests instead of failing them; a few quick retries ride out a blip, then the request
 * fails with 503.
 */
const CALL_OPTIONS = { timeout: 5_000, maxRetries: 2 };

/**
 * Cloud KMS encrypt/decrypt of DEKs, with the project id as additional authenticated data. The SDK is
 * loaded on first use, so installs on the local provider never load it.
 */
export class GcpKmsKeyProvider extends KeyProvider {
  readonly name = 'gcp';
  readonly masterKeyId: string;
  private readonly logger = new Logger(GcpKmsKeyProvider.name);
  private client?: Promise<KeyManagementServiceClient>;

  constructor(private readonly options: GcpKmsOptions) {
    super();
    this.masterKeyId = options.keyName;
  }

  /** Cloud KMS binds the ciphertext to the context's AAD (DESIGN.md §4: the project id, and we add the version). */
  async wrap(dek: Buffer, context: KeyContext): Promise<Buffer> {
    const client = await this.getClient();
    const [response] = await this.call(() =>
      client.encrypt({ name: this.options.keyName, plaintext: dek, additionalAuthenticatedData: keyContextAad(context) }, CALL_OPTIONS),
    );
    return Buffer.from(response.ciphertext as Uint8Array);
  }

  async unwrap(wrapped: Buffer, context: KeyContext): Promise<Buffer> {
    const client = await this.getClient();
    try {
      const [response] = await client.decrypt(
        { name: this.options.keyName, ciphertext: wrapped, additionalAuthenticatedData: keyContextAad(context) },
        CALL_OPTIONS,
      );
      return Buffer.from(response.plaintext as Uint8Array);
    } catch (error) {
      if ((error as { code?: number }).code === INVALID_ARGUMENT) {
        throw new KeyUnwrapError(`${describeKeyContext(context)} does not decrypt with ${this.masterKeyId}`);
      }
      this.logger.error({ code: (error as { code?: number }).code, message: (error as Error).message }, 'Cloud KMS decrypt failed');
      throw new KeyProviderUnavailableError(this.name, refusal(error, this.masterKeyId));
    }
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      this.logger.error({ code: (error as { code?: number }).code, message: (error as Error).message }, 'Cloud KMS call failed');
      throw new KeyProviderUnavailableError(this.name, refusal(error, this.masterKeyId));
    }
  }

  private getClient(): Promise<KeyManagementServiceClient> {
    this.client ??= (async () => {
      const { KeyManagementServiceClient } = await import('@google-cloud/kms');
      const endpoint = this.options.endpoint;
      if (!endpoint) return new KeyManagementServiceClient();
      const [host, port] = endpoint.split(':');
      if (!isLoopback(host)) return new KeyManagementServiceClient({ apiEndpoint: host, port: port ? Number(port) : undefined });
      const grpc = await import('@grpc/grpc-js');
      return new KeyManagementServiceClient({ apiEndpoint: host, port: Number(port ?? 443), sslCreds: grpc.credentials.createInsecure() });
    })();
    return this.client;
  }
}

function refusal(error: unknown, key: string): string | undefined {
  const code = (error as { code?: number }).code;
  return code !== undefined && REFUSALS.has(code) ? `Cloud KMS refused ${key}: gRPC status ${code}` : undefined;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
