import type { Logger } from '@nestjs/common';
import { safeError } from '../logging/safe-error.js';
import type { JobQueue } from './job-queue.js';

/**
 * A maintenance pass that every instance asks for on an interval and that runs at most once at a time
 * across instances: the job queue's 'exclusive' queue `name` holds one pass queued or running, so a request
 * while one waits or runs queues nothing. A failed pass is logged and not retried (the next interval asks
 * again); what it did before failing stays done. The owner (a Nest provider) calls `create` from
 * onModuleInit, `start` from onApplicationBootstrap and `stop` from onModuleDestroy.
 */
export class PeriodicPass {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly queue: JobQueue,
    private readonly logger: Logger,
    private readonly options: { name: string; label: string; intervalMs: number; run: () => Promise<unknown> },
  ) {}

  async create(): Promise<void> {
    const boss = await this.queue.ready();
    await boss.createQueue(this.options.name, { policy: 'exclusive', retryLimit: 0 });
  }

  async start(): Promise<void> {
    const { name, label, intervalMs, run } = this.options;
    const boss = await this.queue.ready();
    await boss.work(name, { pollingIntervalSeconds: 1 }, async () => {
      try {
        await run();
      } catch (error) {
        this.logger.warn({ failure: safeError(error) }, `${label}: a pruning pass failed`);
        throw error;
      }
    });
    this.timer = setInterval(() => void this.request(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Asks for a pass (none is queued while one waits or runs); returns whether this call queued one. */
  async request(): Promise<boolean> {
    try {
      const boss = await this.queue.ready();
      return (await boss.send(this.options.name, {})) !== null;
    } catch (error) {
      this.logger.warn({ failure: safeError(error) }, `${this.options.label}: could not ask for a pruning pass; will ask again`);
      return false;
    }
  }
}
