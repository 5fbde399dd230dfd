import { describe, expect, it } from '@jest/globals';
import { StatementBatcher } from './statement-batcher.js';

/** An `execute` that records each execution's inputs and answers when the test lets it. */
function recorder(answer: (input: number) => string = (n) => `out-${n}`) {
  const executions: number[][] = [];
  const gates: Array<() => void> = [];
  const execute = async (inputs: readonly number[]) => {
    executions.push([...inputs]);
    await new Promise<void>((resolve) => gates.push(resolve));
    return inputs.map(answer);
  };
  const releaseAll = () => gates.splice(0).forEach((open) => open());
  return { executions, execute, releaseAll };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('StatementBatcher', () => {
  it('runs the calls of one event-loop turn as one execution and answers each with its own output', async () => {
    const { executions, execute, releaseAll } = recorder();
    const batcher = new StatementBatcher(execute);
    const calls = [1, 2, 3].map((n) => batcher.run(n));
    await turn();
    releaseAll();
    expect(await Promise.all(calls)).toEqual(['out-1', 'out-2', 'out-3']);
    expect(executions).toEqual([[1, 2, 3]]);
  });

  it('holds calls made during an execution for the next one, which starts when it ends', async () => {
    const { executions, execute, releaseAll } = recorder();
    const batcher = new StatementBatcher(execute);
    const first = batcher.run(1);
    await turn();
    const later = [batcher.run(2), batcher.run(3)];
    await turn();
    expect(executions).toEqual([[1]]); // one execution at a time
    releaseAll();
    await first;
    await turn();
    releaseAll();
    expect(await Promise.all(later)).toEqual(['out-2', 'out-3']);
    expect(executions).toEqual([[1], [2, 3]]);
  });

  it('runs a lone call without waiting for company', async () => {
    const batcher = new StatementBatcher(async (inputs: readonly number[]) => inputs.map((n) => n * 2));
    await expect(batcher.run(21)).resolves.toBe(42);
    await expect(batcher.run(4)).resolves.toBe(8); // and again, once idle
  });

  /** A PostgreSQL error as pg raises it: `code` is the SQLSTATE. */
  const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

  it('retries an execution refused for its data call by call, so only the bad input fails', async () => {
    const executions: number[][] = [];
    const violation = pgError('23514', 'check constraint violated');
    const batcher = new StatementBatcher(async (inputs: readonly number[]) => {
      executions.push([...inputs]);
      if (inputs.includes(13)) throw violation;
      return inputs.map(String);
    });
    const results = await Promise.allSettled([batcher.run(12), batcher.run(13), batcher.run(14)]);
    expect(results).toEqual([
      { status: 'fulfilled', value: '12' },
      { status: 'rejected', reason: violation },
      { status: 'fulfilled', value: '14' },
    ]);
    expect(executions).toEqual([[12, 13, 14], [12], [13], [14]]);
  });

  it('fails every call at once when the execution fails for another reason, and carries on after', async () => {
    const executions: number[][] = [];
    let down = true;
    const batcher = new StatementBatcher(async (inputs: readonly number[]) => {
      executions.push([...inputs]);
      if (down) throw pgError('57P01', 'terminating connection due to administrator command');
      return inputs.map(String);
    });
    const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.run(n)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(executions).toEqual([[1, 2, 3]]); // no retries that would only fail again
    down = false;
    expect(await Promise.all([batcher.run(4), batcher.run(5)])).toEqual(['4', '5']);
  });

  it('splits a queue longer than maxBatch over several executions', async () => {
    const executions: number[][] = [];
    const batcher = new StatementBatcher(async (inputs: readonly number[]) => {
      executions.push([...inputs]);
      return [...inputs];
    }, 2);
    expect(await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.run(n)))).toEqual([1, 2, 3, 4, 5]);
    expect(executions).toEqual([[1, 2], [3, 4], [5]]);
  });
});
