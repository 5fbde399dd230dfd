import { Module } from '@nestjs/common';
import { ProjectsModule } from '../projects/projects.module.js';
import { SecretCipher } from './secret-cipher.service.js';
import { SecretsController } from './secrets.controller.js';
import { SecretsRepository } from './secrets.repository.js';
import { SecretsService } from './secrets.service.js';

@Module({
  imports: [ProjectsModule],
  controllers: [SecretsController],
  providers: [SecretsService, SecretsRepository, SecretCipher],
  exports: [SecretsRepository],
})
export class SecretsModule {}
