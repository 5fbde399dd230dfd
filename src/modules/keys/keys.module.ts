import { Module } from '@nestjs/common';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { GcpKmsKeyProvider } from './gcp-kms-key-provider.js';
import { KeyProvider } from './key-provider.js';
import { LocalKeyProvider } from './local-key-provider.js';
import { DecryptionWorkers } from './decryption-workers.js';
import { ProjectKeys } from './project-keys.service.js';

export function createKeyProvider(config: AppConfig): KeyProvider {
  if (config.kms.provider === 'gcp') {
    return new GcpKmsKeyProvider({ keyName: config.kms.gcpKeyName!, endpoint: config.kms.gcpEndpoint });
  }
  if (!config.kms.masterKey) throw new Error('SECR_MASTER_KEY was not resolved before start-up');
  return new LocalKeyProvider(config.kms.masterKey);
}

@Module({
  providers: [{ provide: KeyProvider, inject: [CONFIG], useFactory: createKeyProvider }, ProjectKeys, DecryptionWorkers],
  exports: [KeyProvider, ProjectKeys, DecryptionWorkers],
})
export class KeysModule {}
