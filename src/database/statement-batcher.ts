import { isDataError } from './pg-errors.js';

/**
 * Runs concurrent calls of one statement together: calls made while an execution is in flight wait
 * and go as one execution after it (group commit, done in the app). Under load, N concurrent requests
 * then cost one round trip, and for a write one commit, instead of N; a call made while nothing is in
 * flight goes at the end of the current event-loop turn, with whatever else that turn asked for.
 *
 * Nothing is cached: every call reads or writes the database itself, in an execution that starts after
 * the call was made. An execution of several calls that PostgreSQL refused for its data (a constraint,
 * a bad value) is retried one call at a time, so a bad input fails its own call only; any other
 * failure (a lost connection, a timeout) fails every call of the execution at once.
 *
 * `execute` takes the inputs in call order and returns one output per input, in the same order. It
 * must use a pooled connection of its own, never a caller's transaction: callers wait for each other.
 * Its waits are the pool's: an execution on a stalled database fails within the pool's acquire and
 * query time-outs (pg-connection.ts), failing its calls, and the next queued batch goes on a fresh
 * connection; nothing here waits without bound.
 */
export class StatementBatcher<In, Out> {
  private queue: Array<Waiter<In, Out>> = [];
  private draining = false;

  constructor(
    private readonly execute: (inputs: readonly In[]) => Promise<Out[]>,
    /** Bounds the size of one statement; the rest of the queue goes in the next execution. */
    private readonly maxBatch = 256,
  ) {}

  run(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (this.draining) return;
      this.draining = true;
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length) await this.executeBatch(this.queue.splice(0, this.maxBatch));
    this.draining = false;
  }

  private async executeBatch(batch: Array<Waiter<In, Out>>): Promise<void> {
    try {
      const outputs = await this.execute(batch.map((w) => w.input));
      batch.forEach((w, i) => w.resolve(outputs[i]));
    } catch (error) {
      if (batch.length === 1 || !isDataError(error)) return batch.forEach((w) => w.reject(error));
      await Promise.all(batch.map((w) => this.execute([w.input]).then(([output]) => w.resolve(output), w.reject)));
    }
  }
}

interface Waiter<In, Out> {
  input: In;
  resolve: (output: Out) => void;
  reject: (error: unknown) => void;
}
