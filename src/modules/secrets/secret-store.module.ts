import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module.js';
import { SecretCipher } from './secret-cipher.service.js';
import { SecretsRepository } from './secrets.repository.js';

/**
 * The stored secrets: the repository that owns `secrets` and `secret_versions`, and the cipher that
 * every reader and writer of their values goes through. Apart from SecretsModule so that a key
 * rotation (ProjectsModule, which SecretsModule imports) can re-encrypt through them too.
 */
@Module({ imports: [KeysModule], providers: [SecretsRepository, SecretCipher], exports: [SecretsRepository, SecretCipher] })
export class SecretStoreModule {}
