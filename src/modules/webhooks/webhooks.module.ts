import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { KeysModule } from '../keys/keys.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { ProjectsModule } from '../projects/projects.module.js';
import { WebhookDeliveryWorker } from './webhook-delivery.worker.js';
import { WebhookEvents } from './webhook-events.service.js';
import { WebhookSecrets } from './webhook-secrets.service.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksRepository } from './webhooks.repository.js';
import { WebhooksService } from './webhooks.service.js';

/**
 * Webhooks: CRUD and the delivery log (controller, service), the `WebhookEvents` seam that writers of
 * secrets call inside their transactions, and the worker that delivers. Needs the global JobsModule.
 */
@Module({
  imports: [AuditModule, PlansModule, KeysModule, ProjectsModule],
  controllers: [WebhooksController],
  providers: [WebhooksService, WebhooksRepository, WebhookSecrets, WebhookEvents, WebhookDeliveryWorker],
  exports: [WebhookEvents, WebhooksRepository],
})
export class WebhooksModule {}
