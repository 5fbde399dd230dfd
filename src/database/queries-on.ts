import type { EntityManager } from 'typeorm';

type Tasks<T extends readonly unknown[]> = { readonly [K in keyof T]: () => Promise<T[K]> };

/**
 * Runs `tasks`, each of which queries through `em`: side by side when `em` is the pool's manager (each
 * query takes its own connection), one after another when `em` holds one connection (a transaction's).
 * A connection runs one query at a time; pg only queues a second one, deprecated since pg 8 (a warning)
 * and refused by pg 9. `em` undefined means the pool's manager.
 */
export async function queriesOn<T extends readonly unknown[]>(em: EntityManager | undefined, tasks: Tasks<T>): Promise<T> {
  if (!em?.queryRunner) return (await Promise.all(tasks.map((task) => task()))) as unknown as T;
  const results: unknown[] = [];
  for (const task of tasks) results.push(await task());
  return results as unknown as T;
}
