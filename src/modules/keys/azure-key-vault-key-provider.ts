import { Logger } from '@nestjs/common';
import type { CryptographyClient, CryptographyClientOptions } from '@azure/keyvault-keys';
import { createHash, timingSafeEqual } from 'node:crypto';
import { describeKeyContext, KeyContext, keyContextAad, KeyProvider, KeyProviderUnavailableError, KeyUnwrapError } from './key-provider.js';

export interface AzureKeyVaultOptions {
  /** https://<vault>.vault.azure.net/keys/<name>[/<version>] (KMS_AZURE_KEY_ID): an RSA key. */
  keyId: string;
}

const ALGORITHM = 'RSA-OAEP-256';
/** The first byte of every wrapped form this provider writes: 0x01 | version length | version | RSA-OAEP ciphertext. */
const FORMAT = 0x01;
const BINDING_BYTES = 32;
/** Bounded like the gcp provider's calls: 5 s per attempt, 2 retries, then 503. */
const TIMEOUT_MS = 5_000;
const RETRY = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1_000 };
/** Answers that say the key or its permissions are wrong: retrying does not help, the operator must act. */
const REFUSALS = new Set([401, 403, 404]);

interface ParsedKeyId {
  vaultUrl: string;
  name: string;
  version?: string;
}

/**
 * Azure Key Vault wrapKey/unwrapKey (RSA-OAEP-256) of DEKs. Key Vault's wrap takes no associated data,
 * so the provider binds the material to its context itself: what it wraps is SHA-256(context AAD) |
 * material, and unwrap refuses a result whose first 32 bytes are not the hash of the context it was asked
 * for (RSA-OAEP ciphertexts cannot be altered into another valid one without the private key). A DEK
 * moved to another project or version therefore fails to unwrap, as with the other providers.
 *
 * The key version that wrapped each DEK is stored in the wrapped form, so a key rotated in Key Vault
 * (a new version) keeps unwrapping the DEKs of the old one. With a key URL without a version, the
 * current version is looked up once (keys/get) and used until restart. The SDKs are loaded on first use.
 */
export class AzureKeyVaultKeyProvider extends KeyProvider {
  readonly name = 'azure';
  readonly masterKeyId: string;
  private readonly logger = new Logger(AzureKeyVaultKeyProvider.name);
  private readonly key: ParsedKeyId;
  private sdk?: Promise<{ clientFor(version: string): CryptographyClient; currentVersion(): Promise<string> }>;
  private version?: Promise<string>;

  constructor(options: AzureKeyVaultOptions) {
    super();
    this.masterKeyId = options.keyId.replace(/\/$/, '');
    this.key = parseKeyId(this.masterKeyId);
  }

  async wrap(dek: Buffer, context: KeyContext): Promise<Buffer> {
    const sdk = await this.getSdk();
    try {
      this.version ??= this.key.version ? Promise.resolve(this.key.version) : sdk.currentVersion();
      const version = await this.version.catch((error) => {
        this.version = undefined; // a failed look-up is tried again by the next call
        throw error;
      });
      const plaintext = Buffer.concat([binding(context), dek]);
      const { result } = await sdk.clientFor(version).wrapKey(ALGORITHM, plaintext, operationOptions());
      plaintext.fill(0);
      const tag = Buffer.from(version, 'utf8');
      return Buffer.concat([Buffer.of(FORMAT, tag.length), tag, Buffer.from(result)]);
    } catch (error) {
      throw this.failure(error, 'wrapKey');
    }
  }

  async unwrap(wrapped: Buffer, context: KeyContext): Promise<Buffer> {
    const undecryptable = () => new KeyUnwrapError(`${describeKeyContext(context)} does not unwrap with ${this.masterKeyId}`);
    if (wrapped.length < 3 || wrapped[0] !== FORMAT || wrapped.length < 2 + wrapped[1] + 1) throw undecryptable();
    const version = wrapped.subarray(2, 2 + wrapped[1]).toString('utf8');
    if (!/^[A-Za-z0-9]+$/.test(version)) throw undecryptable();
    const sdk = await this.getSdk();
    let plaintext: Buffer;
    try {
      const { result } = await sdk.clientFor(version).unwrapKey(ALGORITHM, wrapped.subarray(2 + wrapped[1]), operationOptions());
      plaintext = Buffer.from(result);
    } catch (error) {
      // Key Vault answers 400 to a ciphertext that does not decrypt under the key.
      if ((error as { statusCode?: number }).statusCode === 400) throw undecryptable();
      throw this.failure(error, 'unwrapKey');
    }
    const expected = binding(context);
    const bound = plaintext.length > BINDING_BYTES && timingSafeEqual(plaintext.subarray(0, BINDING_BYTES), expected);
    const material = Buffer.from(plaintext.subarray(BINDING_BYTES));
    plaintext.fill(0);
    if (!bound) {
      material.fill(0);
      throw undecryptable();
    }
    return material;
  }

  private failure(error: unknown, operation: string): KeyProviderUnavailableError {
    const status = (error as { statusCode?: number }).statusCode;
    const code = (error as { code?: string }).code;
    this.logger.error({ status, code, error: (error as Error).name, message: (error as Error).message }, `Azure Key Vault ${operation} failed`);
    const refused = status !== undefined && REFUSALS.has(status);
    return new KeyProviderUnavailableError(
      this.name,
      refused ? `Azure Key Vault refused ${operation} with ${this.masterKeyId}: ${status} ${code ?? ''}`.trim() : undefined,
    );
  }

  private getSdk() {
    this.sdk ??= (async () => {
      const [{ CryptographyClient, KeyClient }, { DefaultAzureCredential }] = await Promise.all([import('@azure/keyvault-keys'), import('@azure/identity')]);
      const credential = new DefaultAzureCredential({ retryOptions: RETRY });
      const options: CryptographyClientOptions = {
        retryOptions: RETRY,
        // The challenge names the vault's resource (vault.azure.net); a vault on loopback (a local
        // emulator, the test suite's fake) cannot be under it.
        disableChallengeResourceVerification: isLoopback(new URL(this.key.vaultUrl).hostname),
      };
      const clients = new Map<string, CryptographyClient>();
      return {
        clientFor: (version: string) => {
          let client = clients.get(version);
          if (!client) {
            client = new CryptographyClient(`${this.key.vaultUrl}/keys/${this.key.name}/${version}`, credential, options);
            clients.set(version, client);
          }
          return client;
        },
        currentVersion: async () => {
          const key = await new KeyClient(this.key.vaultUrl, credential, options).getKey(this.key.name, operationOptions());
          return key.properties.version!;
        },
      };
    })();
    return this.sdk;
  }
}

function binding(context: KeyContext): Buffer {
  return createHash('sha256').update(keyContextAad(context)).digest();
}

/** Per attempt 5 s; the whole call (token, retries) is abandoned after the attempts could have run. */
function operationOptions() {
  return { requestOptions: { timeout: TIMEOUT_MS }, abortSignal: AbortSignal.timeout(TIMEOUT_MS * (RETRY.maxRetries + 1) + 3_000) };
}

export function parseKeyId(keyId: string): ParsedKeyId {
  const url = new URL(keyId);
  const match = /^\/keys\/([A-Za-z0-9-]{1,127})(?:\/([A-Za-z0-9]+))?$/.exec(url.pathname);
  if (url.protocol !== 'https:' || !match || url.search || url.hash) {
    throw new Error('KMS_AZURE_KEY_ID must be https://<vault>.vault.azure.net/keys/<name>[/<version>]');
  }
  return { vaultUrl: url.origin, name: match[1], version: match[2] };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}
