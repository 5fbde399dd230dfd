import { ServiceUnavailableError } from '../../common/errors/domain-error.js';

/**
 * In-process FIFO queues, one per project: `run` starts its task once every task queued before it for
 * the same project has settled. The write pipeline (SecretWriter) queues the writes that store
 * references here before opening their transaction, so a burst of them waits in memory, holding no
 * pooled connection and no lock, instead of inside PostgreSQL on the project's reference lock, where
 * every waiter held a connection and failed past lock_timeout. A task that waited `maxWaitMs` without
 * starting fails with a 503 (retry later); the tasks behind it keep their order.
 */
export class ProjectQueue {
  /** Per project: settles once the last task queued so far has settled. */
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly maxWaitMs: number) {}

  async run<T>(projectId: string, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(projectId);
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const tail = before ? before.then(() => mine) : mine;
    this.tails.set(projectId, tail);
    try {
      if (before) await this.waitFor(before);
      return await task();
    } finally {
      done();
      if (this.tails.get(projectId) === tail) this.tails.delete(projectId);
    }
  }

  private async waitFor(turn: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ServiceUnavailableError('Too many concurrent writes of references in this project; retry later')), this.maxWaitMs);
    });
    try {
      await Promise.race([turn, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}
