import { Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { safeError } from '../logging/safe-error.js';
import type { JobQueue } from './job-queue.js';

export interface PeriodicPassOptions {
  /** The job queue's queue of passes. */
  queue: string;
  /** What log lines name ("Change log", "Rate limits"). */
  label: string;
  intervalMs: number;
}

/**
 * A pruning pass that every instance asks for on an interval and that runs at most once at a time across
 * instances: the job queue's 'exclusive' queue holds one pass queued or running, so a request while one
 * waits or runs queues nothing. A failed pass is logged and not retried (the next interval asks again);
 * what it did before failing stays done. Subclasses (Nest providers) say what a pass does (`runPass`).
 */
export abstract class PeriodicPass implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  protected readonly logger = new Logger(this.constructor.name);
  private timer?: NodeJS.Timeout;

  protected constructor(
    private readonly jobs: JobQueue,
    private readonly options: PeriodicPassOptions,
  ) {}

  /** One pass (what the job runs). */
  protected abstract runPass(): Promise<unknown>;

  async onModuleInit(): Promise<void> {
    const boss = await this.jobs.ready();
    await boss.createQueue(this.options.queue, { policy: 'exclusive', retryLimit: 0 });
  }

  async onApplicationBootstrap(): Promise<void> {
    const boss = await this.jobs.ready();
    await boss.work(this.options.queue, { pollingIntervalSeconds: 1 }, async () => {
      try {
        await this.runPass();
      } catch (error) {
        this.logger.warn({ failure: safeError(error) }, `${this.options.label}: a pruning pass failed`);
        throw error;
      }
    });
    this.timer = setInterval(() => void this.request(), this.options.intervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Asks for a pass (none is queued while one waits or runs); returns whether this call queued one. */
  async request(): Promise<boolean> {
    try {
      const boss = await this.jobs.ready();
      return (await boss.send(this.options.queue, {})) !== null;
    } catch (error) {
      this.logger.warn({ failure: safeError(error) }, `${this.options.label}: could not ask for a pruning pass; will ask again`);
      return false;
    }
  }
}
