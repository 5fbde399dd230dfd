import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import type { JobResult, JobWithMetadata } from 'pg-boss';
import { JobQueue } from '../../common/jobs/job-queue.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { APP_VERSION } from '../../version.js';
import { DELIVERY_QUEUE, type DeliveryJob } from './webhook-jobs.js';
import { WebhookSecrets } from './webhook-secrets.service.js';
import { sendDelivery, type AttemptResult } from './webhook-sender.js';
import { signBody, signTimestamped } from './signing.js';
import { WebhooksRepository, type AttemptOutcome, type DeliveryTarget } from './webhooks.repository.js';

/**
 * Sends webhook deliveries: pg-boss hands each job to one instance at a time (SKIP LOCKED), so
 * instances share the work and none sends a delivery another is sending. Every attempt is logged. A
 * network error, a timeout or a 5xx fails the job, and pg-boss retries it with exponential backoff
 * until its attempts run out; a 4xx, a redirect or a refused target completes it: the receiver has
 * answered, or will never be allowed.
 *
 * One pg-boss worker fetches up to WEBHOOK_CONCURRENCY due jobs at a time and sends them
 * concurrently; while batches come back full it fetches again at once, so a backlog drains at the
 * speed of the receivers, not of the polling interval.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger(WebhookDeliveryWorker.name);

  constructor(
    private readonly queue: JobQueue,
    private readonly repo: WebhooksRepository,
    private readonly secrets: WebhookSecrets,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  /** The queue exists before anything can enqueue into it (requests are served after init). */
  async onModuleInit(): Promise<void> {
    const boss = await this.queue.ready();
    await boss.createQueue(DELIVERY_QUEUE);
  }

  async onApplicationBootstrap(): Promise<void> {
    const { concurrency, pollIntervalMs, allowPrivate } = this.config.webhooks;
    if (allowPrivate && this.config.isProduction) {
      this.logger.warn('WEBHOOK_ALLOW_PRIVATE=true: webhooks may reach loopback and private addresses (meant for development and tests)');
    }
    if (!concurrency) {
      this.logger.log('WEBHOOK_CONCURRENCY=0: this instance sends no webhook deliveries');
      return;
    }
    const boss = await this.queue.ready();
    await boss.work(
      DELIVERY_QUEUE,
      {
        batchSize: concurrency,
        burstWhenBatchFull: concurrency > 1,
        perJobResults: true,
        includeMetadata: true,
        pollingIntervalSeconds: pollIntervalMs / 1000,
      },
      (jobs: JobWithMetadata<DeliveryJob>[]) => Promise.all(jobs.map((job) => this.settle(job))),
    );
  }

  /** Completed: delivered, or not to be retried. Failed: pg-boss retries it while attempts remain. */
  private async settle(job: JobWithMetadata<DeliveryJob>): Promise<JobResult> {
    try {
      const failure = await this.deliver(job);
      return failure ? { id: job.id, status: 'failed', output: { message: failure } } : { id: job.id, status: 'completed' };
    } catch (error) {
      this.logger.error({ err: error, deliveryId: job.id }, 'Webhook delivery could not be processed');
      return { id: job.id, status: 'failed', output: { message: 'The delivery could not be processed' } };
    }
  }

  /** One attempt of one delivery, logged; returns why it should be retried, if it should. */
  async deliver(job: JobWithMetadata<DeliveryJob>): Promise<string | null> {
    const { webhookId, event, body, test } = job.data;
    const webhook = await this.repo.deliveryTarget(webhookId);
    // Deleted since the event: nothing to send. Disabled since: the owner stopped it, tests excepted.
    if (!webhook || (!webhook.enabled && !test)) return null;

    const attempt = job.retryCount + 1;
    const result = await this.attempt(webhook, job.id, event, body, job.signal);
    const outcome: AttemptOutcome = result.delivered ? 'delivered' : result.retryable && job.retryCount < job.retryLimit ? 'retrying' : 'failed';
    await this.repo.recordAttempt({
      webhookId,
      deliveryId: job.id,
      event,
      attempt,
      outcome,
      statusCode: result.statusCode,
      durationMs: result.durationMs,
      error: result.error,
      responseBody: result.responseBody,
    });
    // The host only: a webhook URL's path or query may itself be a credential (chat webhooks are).
    const where = { webhookId, deliveryId: job.id, event, attempt, host: hostOf(webhook.url), status: result.statusCode, ms: result.durationMs };
    if (outcome === 'delivered') this.logger.log(where, 'Webhook delivered');
    // `reason`, not `error`: the logger's `error` key goes through safeError, which keeps no text.
    else this.logger.warn({ ...where, reason: result.error, outcome }, 'Webhook delivery failed');
    // A failed job is retried by pg-boss, or (attempts used up) stays failed; a completed one is done.
    return !result.delivered && result.retryable ? `Attempt ${attempt} failed: ${result.error}` : null;
  }

  private async attempt(webhook: DeliveryTarget, deliveryId: string, event: string, body: string, signal: AbortSignal): Promise<AttemptResult> {
    let secret: string;
    try {
      secret = await this.secrets.open(webhook.id, webhook.secret);
    } catch (error) {
      this.logger.error({ err: error, webhookId: webhook.id }, 'The signing secret of a webhook could not be read');
      return { delivered: false, retryable: true, statusCode: null, durationMs: 0, error: 'The signing secret could not be read', responseBody: null };
    }
    const timestamp = Math.floor(Date.now() / 1000);
    return sendDelivery({
      url: webhook.url,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': `secr-webhooks/${APP_VERSION}`,
        'x-secr-event': event,
        'x-secr-delivery': deliveryId,
        'x-secr-timestamp': String(timestamp),
        'x-secr-signature': signBody(secret, body),
        'x-secr-timestamp-signature': signTimestamped(secret, timestamp, body),
      },
      timeoutMs: this.config.webhooks.timeoutMs,
      allowPrivate: this.config.webhooks.allowPrivate,
      signal,
    });
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid)';
  }
}
