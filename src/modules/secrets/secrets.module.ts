import { Module } from '@nestjs/common';
import { ProjectsModule } from '../projects/projects.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { SecretCipher } from './secret-cipher.service.js';
import { SecretsController } from './secrets.controller.js';
import { SecretsRepository } from './secrets.repository.js';
import { SecretsService } from './secrets.service.js';

@Module({
  imports: [ProjectsModule, WebhooksModule],
  controllers: [SecretsController],
  providers: [SecretsService, SecretsRepository, SecretCipher],
  exports: [SecretsRepository],
})
export class SecretsModule {}
