import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../config/config.js';
import { AwsKmsKeyProvider, encryptionContext } from './aws-kms-key-provider.js';
import { AzureKeyVaultKeyProvider, parseKeyId } from './azure-key-vault-key-provider.js';
import { KeyProviders } from './key-providers.js';
import { LocalKeyProvider } from './local-key-provider.js';

const MASTER_KEY = Buffer.alloc(32, 3).toString('base64');
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('KeyProviders', () => {
  it('uses KMS_PROVIDER as the primary and keeps the other configured providers for unwrapping only', () => {
    const providers = KeyProviders.fromConfig(loadConfig({ KMS_PROVIDER: 'aws', KMS_AWS_KEY_ID: KEY_ARN, SECR_MASTER_KEY: MASTER_KEY }));
    expect(providers.primary).toBeInstanceOf(AwsKmsKeyProvider);
    expect(providers.all.map((p) => p.name)).toEqual(['aws', 'local']);
    const local = new LocalKeyProvider(MASTER_KEY);
    expect(providers.find('local', local.masterKeyId)).toBeInstanceOf(LocalKeyProvider);
    expect(providers.find('local', 'local:0000000000000000')).toBeUndefined();
    expect(providers.find('aws', 'arn:aws:kms:eu-west-1:111122223333:key/other')).toBeUndefined();
  });

  it('refuses to start without the primary provider’s key', () => {
    expect(() => KeyProviders.fromConfig(loadConfig({}))).toThrow(/SECR_MASTER_KEY was not resolved/);
  });

  it('binds an AWS encryption context to the project and version, or the webhook', () => {
    expect(encryptionContext({ projectId: 'p', version: 2 })).toEqual({ purpose: 'secr-project-key', projectId: 'p', keyVersion: '2' });
    expect(encryptionContext({ webhookId: 'w' })).toEqual({ purpose: 'secr-webhook-secret', webhookId: 'w' });
  });

  it('reads an Azure key URL with or without a version, and refuses anything else', () => {
    expect(parseKeyId('https://v.vault.azure.net/keys/secr')).toEqual({ vaultUrl: 'https://v.vault.azure.net', name: 'secr', version: undefined });
    expect(parseKeyId('https://v.vault.azure.net/keys/secr/0a1b')).toEqual({ vaultUrl: 'https://v.vault.azure.net', name: 'secr', version: '0a1b' });
    expect(() => parseKeyId('https://v.vault.azure.net/secrets/secr')).toThrow(/KMS_AZURE_KEY_ID/);
    expect(new AzureKeyVaultKeyProvider({ keyId: 'https://v.vault.azure.net/keys/secr/' }).masterKeyId).toBe('https://v.vault.azure.net/keys/secr');
  });
});
