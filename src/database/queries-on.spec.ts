import { describe, expect, it } from '@jest/globals';
import type { EntityManager } from 'typeorm';
import { queriesOn } from './queries-on.js';

/** Tasks that record when each starts and ends, each finishing on a later tick than it started. */
function recorder() {
  const events: string[] = [];
  const task = (name: string) => async () => {
    events.push(`start ${name}`);
    await new Promise((resolve) => setImmediate(resolve));
    events.push(`end ${name}`);
    return name;
  };
  return { events, task };
}

describe('queriesOn', () => {
  it("runs the tasks one after another on a manager that holds one connection (a transaction's), in order", async () => {
    const { events, task } = recorder();
    const em = { queryRunner: {} } as EntityManager;
    expect(await queriesOn(em, [task('a'), task('b'), task('c')] as const)).toEqual(['a', 'b', 'c']);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it("runs them side by side on the pool's manager, or without one, answering in the tasks' order", async () => {
    for (const em of [{ queryRunner: undefined } as EntityManager, undefined]) {
      const { events, task } = recorder();
      expect(await queriesOn(em, [task('a'), task('b')] as const)).toEqual(['a', 'b']);
      expect(events).toEqual(['start a', 'start b', 'end a', 'end b']);
    }
  });
});
