import { Inject, Injectable } from '@nestjs/common';
import { JobQueue } from '../../common/jobs/job-queue.js';
import { PeriodicPass } from '../../common/jobs/periodic-pass.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { ChangeLogRepository } from './change-log.repository.js';

/** The job queue's queue of pruning passes ('exclusive': at most one queued or running, across instances). */
export const PRUNE_QUEUE = 'secret-changes-prune';
/** Rows deleted per statement: each statement is short, so writers never wait long behind a pass. */
export const PRUNE_BATCH = 2_000;
const HOUR_MS = 3_600_000;

export interface PruneResult {
  /** Changes deleted for their age. */
  byAge: number;
  /** Changes deleted beyond the per-environment count. */
  byCount: number;
}

/**
 * Keeps the change log (`secret_changes`) from growing without bound: every
 * CHANGE_LOG_PRUNE_INTERVAL_SECONDS each instance asks the job queue for a pass, and the queue runs at
 * most one at a time on any instance. A pass deletes, a batch per statement, the changes older than
 * CHANGE_LOG_MAX_AGE_HOURS and those beyond the latest CHANGE_LOG_MAX_PER_ENVIRONMENT of each
 * environment. What it deletes moves the environment's horizon, so a watcher reconnecting from before
 * it is told to resync, and a check-and-set from before it conflicts, instead of trusting a partial log.
 */
@Injectable()
export class ChangeLogPruner extends PeriodicPass {
  constructor(
    private readonly log: ChangeLogRepository,
    queue: JobQueue,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {
    super(queue, { queue: PRUNE_QUEUE, label: 'Change log', intervalMs: config.changeLog.pruneIntervalSeconds * 1000 });
  }

  protected runPass(): Promise<unknown> {
    return this.prune();
  }

  /** One pass, now: what the job runs. */
  async prune(now = new Date()): Promise<PruneResult> {
    const { maxAgeHours, maxPerEnvironment } = this.config.changeLog;
    let byAge = 0;
    if (maxAgeHours > 0) {
      const before = new Date(now.getTime() - maxAgeHours * HOUR_MS);
      for (let n = PRUNE_BATCH; n === PRUNE_BATCH; byAge += n) n = await this.log.pruneOlderThan(before, PRUNE_BATCH);
    }
    let byCount = 0;
    for (const environmentId of await this.log.environmentsOver(maxPerEnvironment)) {
      for (let n = PRUNE_BATCH; n === PRUNE_BATCH; byCount += n) n = await this.log.pruneBeyond(environmentId, maxPerEnvironment, PRUNE_BATCH);
    }
    if (byAge || byCount) this.logger.log(`Change log: pruned ${byAge} changes for their age and ${byCount} beyond the count per environment`);
    return { byAge, byCount };
  }
}
