import type { AppConfig } from '../../config/config.js';
import { AwsKmsKeyProvider } from './aws-kms-key-provider.js';
import { AzureKeyVaultKeyProvider } from './azure-key-vault-key-provider.js';
import { GcpKmsKeyProvider } from './gcp-kms-key-provider.js';
import { KeyProvider } from './key-provider.js';
import { LocalKeyProvider } from './local-key-provider.js';

/**
 * Every key provider this server is configured for. `primary` (KMS_PROVIDER) wraps every new key; the
 * others (a SECR_MASTER_KEY, KMS_GCP_KEY_NAME, KMS_AWS_KEY_ID or KMS_AZURE_KEY_ID left configured
 * beside it) only unwrap what they wrapped before, so an install keeps reading its keys while
 * `npm run kms:rewrap` moves them to the primary. Each stored key names the provider and master key
 * that wrapped it, and is unwrapped by that one or not at all. Constructing a provider loads no SDK.
 */
export class KeyProviders {
  readonly all: readonly KeyProvider[];

  constructor(
    readonly primary: KeyProvider,
    others: KeyProvider[] = [],
  ) {
    this.all = [primary, ...others.filter((p) => !(p.name === primary.name && p.masterKeyId === primary.masterKeyId))];
  }

  /** The provider that wrapped a stored key, if this server is configured with it. */
  find(name: string, masterKeyId: string): KeyProvider | undefined {
    return this.all.find((p) => p.name === name && p.masterKeyId === masterKeyId);
  }

  static fromConfig(config: AppConfig): KeyProviders {
    const { kms } = config;
    const configured: Record<AppConfig['kms']['provider'], KeyProvider | undefined> = {
      local: kms.masterKey ? new LocalKeyProvider(kms.masterKey) : undefined,
      gcp: kms.gcpKeyName ? new GcpKmsKeyProvider({ keyName: kms.gcpKeyName, endpoint: kms.gcpEndpoint }) : undefined,
      aws: kms.awsKeyId ? new AwsKmsKeyProvider({ keyId: kms.awsKeyId, region: kms.awsRegion, endpoint: kms.awsEndpoint }) : undefined,
      azure: kms.azureKeyId ? new AzureKeyVaultKeyProvider({ keyId: kms.azureKeyId }) : undefined,
    };
    const primary = configured[kms.provider];
    if (!primary) {
      throw new Error(kms.provider === 'local' ? 'SECR_MASTER_KEY was not resolved before start-up' : `KMS_PROVIDER=${kms.provider} is not configured`);
    }
    return new KeyProviders(
      primary,
      Object.values(configured).filter((p): p is KeyProvider => p !== undefined),
    );
  }
}
