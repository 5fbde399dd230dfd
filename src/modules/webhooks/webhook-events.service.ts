import { Inject, Injectable } from '@nestjs/common';
import type { JobInsert } from 'pg-boss';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { JobQueue, transactionDb } from '../../common/jobs/job-queue.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import type { SecretEvent } from './secret-event.js';
import { DELIVERY_QUEUE, payloadOf, TEST_EVENT, type DeliveryJob, type WebhookPayload } from './webhook-jobs.js';
import { WebhooksRepository } from './webhooks.repository.js';

/**
 * The seam between changes to secrets and webhooks. `emit` runs inside the caller's write
 * transaction and enqueues one delivery job per matching webhook in that same transaction: the jobs
 * exist if and only if the change commits (a rolled-back write announces nothing), and, being rows,
 * they survive a crash or restart until an instance delivers them.
 */
@Injectable()
export class WebhookEvents {
  constructor(
    private readonly queue: JobQueue,
    private readonly repo: WebhooksRepository,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  /** Enqueues a delivery of `event` to each enabled webhook of its org that subscribes to it and whose filters match. */
  async emit(em: EntityManager, event: SecretEvent): Promise<void> {
    const webhookIds = await this.repo.subscribers(em, event);
    if (!webhookIds.length) return;
    const body = JSON.stringify(payloadOf(event));
    await this.enqueue(
      em,
      webhookIds.map((webhookId) => ({ webhookId, event: event.event, body })),
      this.config.webhooks.maxAttempts,
    );
  }

  /** Enqueues a test delivery (attempted once) to one webhook, enabled or not; returns its delivery id. */
  async sendTest(em: EntityManager, webhookId: string, orgId: string, actor: { id: string; email: string }): Promise<string> {
    const payload: WebhookPayload = {
      event: TEST_EVENT,
      timestamp: new Date().toISOString(),
      org: { id: orgId },
      project: null,
      environment: null,
      key: null,
      actor,
      metadata: { webhookId, message: 'A test delivery from secr' },
    };
    const [deliveryId] = await this.enqueue(em, [{ webhookId, event: TEST_EVENT, body: JSON.stringify(payload), test: true }], 1);
    return deliveryId;
  }

  private async enqueue(em: EntityManager, jobs: DeliveryJob[], attempts: number): Promise<string[]> {
    const boss = await this.queue.ready();
    const { retryBaseSeconds, timeoutMs } = this.config.webhooks;
    const inserts: Array<JobInsert<DeliveryJob>> = jobs.map((data) => ({
      id: randomUUID(),
      data,
      retryLimit: attempts - 1,
      retryDelay: retryBaseSeconds,
      retryBackoff: true,
      // A worker that dies mid-attempt holds its job this long before another instance retries it.
      expireInSeconds: Math.max(30, Math.ceil(timeoutMs / 1000) * 3),
      deleteAfterSeconds: 24 * 3600,
    }));
    await boss.insert(DELIVERY_QUEUE, inserts, { db: transactionDb(em) });
    return inserts.map((job) => job.id!);
  }
}
