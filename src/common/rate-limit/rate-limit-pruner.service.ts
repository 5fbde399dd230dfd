import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { JobQueue } from '../jobs/job-queue.js';
import { PeriodicPass } from '../jobs/periodic-pass.js';
import { RateLimiter } from './rate-limiter.service.js';

/** The job queue's queue of pruning passes ('exclusive': at most one queued or running, across instances). */
export const RATE_LIMIT_PRUNE_QUEUE = 'rate-limit-buckets-prune';
/** Rows deleted per statement: short statements, so a hit never waits long behind a pass. */
export const RATE_LIMIT_PRUNE_BATCH = 5_000;
/** Statements per pass at most (1,000,000 rows): a pass ends even while junk keeps expiring; the next interval goes on. */
export const RATE_LIMIT_PRUNE_MAX_BATCHES = 200;

/**
 * Keeps `rate_limit_buckets` bounded: every key a client can choose (an address, an email address, a
 * trust relationship id) leaves a row, and junk from many addresses or for many emails would otherwise
 * grow the table for good. Every RATE_LIMIT_PRUNE_INTERVAL_SECONDS each instance asks the job queue for a
 * pass; the queue runs at most one at a time on any instance. A pass deletes the expired buckets (their
 * window or lock-out has run out), a batch per statement, at most RATE_LIMIT_PRUNE_MAX_BATCHES batches.
 */
@Injectable()
export class RateLimitPruner extends PeriodicPass {
  constructor(
    private readonly limiter: RateLimiter,
    queue: JobQueue,
    @Inject(CONFIG) config: AppConfig,
  ) {
    super(queue, { queue: RATE_LIMIT_PRUNE_QUEUE, label: 'Rate limits', intervalMs: config.rateLimitPruneIntervalSeconds * 1000 });
  }

  protected runPass(): Promise<unknown> {
    return this.prune();
  }

  /** One pass, now (what the job runs): returns how many expired buckets it deleted. */
  async prune(batch = RATE_LIMIT_PRUNE_BATCH, maxBatches = RATE_LIMIT_PRUNE_MAX_BATCHES): Promise<number> {
    let deleted = 0;
    let batches = 0;
    for (let n = batch; n === batch && batches < maxBatches; batches++) {
      n = await this.limiter.deleteExpired(batch);
      deleted += n;
    }
    if (deleted) this.logger.log(`Rate limits: pruned ${deleted} expired buckets${batches === maxBatches ? ' (more left for the next pass)' : ''}`);
    return deleted;
  }
}
