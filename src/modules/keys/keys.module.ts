import { Module } from '@nestjs/common';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { KeyCheck } from './key-check.js';
import { KeysStatusController } from './keys-status.controller.js';
import { KeyProvider } from './key-provider.js';
import { KeyProviders } from './key-providers.js';
import { DecryptionWorkers } from './decryption-workers.js';
import { ProjectKeys } from './project-keys.service.js';

@Module({
  controllers: [KeysStatusController],
  providers: [
    { provide: KeyProviders, inject: [CONFIG], useFactory: (config: AppConfig) => KeyProviders.fromConfig(config) },
    { provide: KeyProvider, inject: [KeyProviders], useFactory: (providers: KeyProviders) => providers.primary },
    ProjectKeys,
    DecryptionWorkers,
    KeyCheck,
  ],
  exports: [KeyProvider, KeyProviders, ProjectKeys, DecryptionWorkers, KeyCheck],
})
export class KeysModule {}
